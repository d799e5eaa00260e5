/**
 * Module worker threads (MODULE_WORKERS) change where a module runs, not what it answers: the same
 * requests to a server with two workers and to one running modules on its HTTP thread get identical
 * bodies, errors thrown inside a worker keep their status and message, and concurrent requests spread
 * over the workers all succeed.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseValues, resolvedServicesFromValues } from '../../shared/config/values.js';
import { projectRoot } from '../../shared/models/manifest.js';
import { postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { demoPhoto, oneFace640 } from '../support/fixtures.js';

const VALUES = `
processing:
  services:
    face-detector-template-extractor: { module: face-detector-template-extractor, configs: [{ name: common_capturer_uld_fda.xml, params: { min_size: 20 } }] }
    verify-matcher: { module: verify-matcher, configs: [{ name: common_capturer_uld_fda.xml, params: { min_size: 20 } }] }
`;

let threaded: ServerProcess;
let inline: ServerProcess;

beforeAll(async () => {
  [threaded, inline] = await Promise.all([
    startServer({ values: VALUES, env: { MODULE_WORKERS: '2' } }),
    startServer({ values: VALUES, env: { MODULE_WORKERS: '0' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([threaded?.stop(), inline?.stop()]);
});

describe('module workers', () => {
  it('answer exactly as the HTTP thread does', async () => {
    for (const image of [await oneFace640(), demoPhoto(1)]) {
      const body = { $image: image.toString('base64') };
      const [a, b] = await Promise.all([
        postSample(threaded.url, '/face-detector-template-extractor/process/sample', body),
        postSample(inline.url, '/face-detector-template-extractor/process/sample', body),
      ]);
      expect(a.status).toBe(200);
      expect(a.body.objects?.length).toBeGreaterThan(0);
      expect(a.body).toEqual(b.body);
    }
  });

  it('keep the status and message of an error thrown inside the module', async () => {
    // One template where the matcher needs two: refused inside the module, not by the HTTP layer's schema.
    const body = { objects: [{ class: 'face', $template: 'AAAA' }] };
    const reply = await postSample(threaded.url, '/verify-matcher/process/sample', body);
    const expected = await postSample(inline.url, '/verify-matcher/process/sample', body);
    expect(reply.status).toBe(400);
    expect(reply.status).toBe(expected.status);
    expect(reply.body).toEqual(expected.body);
  });

  it('serve concurrent requests on every worker without errors', async () => {
    const body = { $image: demoPhoto(2).toString('base64') };
    const replies = await Promise.all(Array.from({ length: 8 }, () => postSample(threaded.url, '/face-detector-template-extractor/process/sample', body)));
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const r of replies) expect(r.body).toEqual(replies[0].body);
  });
});

describe('a module worker that dies', () => {
  it('fails its request with an error, is replaced, and the pool serves again', async () => {
    // The compiled pool (npm test builds first): worker threads run JavaScript, not the TypeScript sources.
    const dist = join(projectRoot, 'dist', 'shared');
    const { ModuleWorkers } = (await import(pathToFileURL(join(dist, 'workers', 'module-workers.js')).href)) as typeof import('../../shared/workers/module-workers.js');
    const { decodeImage } = (await import(pathToFileURL(join(dist, 'image', 'decode.js')).href)) as typeof import('../../shared/image/decode.js');
    const config = resolvedServicesFromValues(parseValues(VALUES, 'values.yaml')).find((c) => c.service === 'face-detector-template-extractor')!;
    const pool = new ModuleWorkers(1);
    try {
      const runtime = await pool.host(config);
      const image = await decodeImage(await oneFace640(), { maxPixels: 16e6 });
      const first = await runtime.process({ image, objects: [], route: 'image' });
      expect(first.objects.length).toBeGreaterThan(0);
      // Fault injection: end the (idle) worker's thread, and send it a request on its way out. (Not in
      // the middle of an inference: terminating a thread inside onnxruntime aborts the whole process.)
      const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
      const ended = slots[0].worker.terminate();
      const inFlight = runtime.process({ image, objects: [], route: 'image' });
      await ended;
      await expect(inFlight).rejects.toThrow(/module worker failed/);
      // The replacement loads the hosted service again; until then the pool answers 503 + Retry-After.
      let again: Awaited<typeof first> | undefined;
      for (let i = 0; i < 100 && !again; i++) {
        again = await runtime.process({ image, objects: [], route: 'image' }).catch((error: { status?: number }) => {
          expect(error.status).toBe(503);
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100));
        });
      }
      expect(again?.objects).toEqual(first.objects);
    } finally {
      await pool.close();
    }
  });
});
