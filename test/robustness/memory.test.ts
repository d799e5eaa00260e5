/**
 * The default limits fit a 512 MiB container: a function process at its defaults, given the worst it
 * accepts — requests at once, each a body near MAX_BODY_SIZE that decodes to MAX_IMAGE_PIXELS — peaks
 * (VmHWM) well under 512 MiB, answers them all, and refuses one pixel more. Memory after a burst of
 * such requests does not keep growing from one burst to the next.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeEnv } from '../../shared/http/limits.js';
import { projectRoot } from '../../shared/models/manifest.js';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { demoPhoto } from '../support/fixtures.js';
import { json, memoryMiB, send } from './support.js';

const defaults = RuntimeEnv.parse({});
interface KnativeService {
  kind: string;
  spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
}
const TARGET = 'face-detector-template-extractor';
let server: ServerProcess;
let body = '';
let width = 0;
let height = 0;

/** A real photo (three faces) scaled to the pixel limit, with grain so that its JPEG nearly fills the body limit. */
async function largestAllowed(): Promise<Buffer> {
  width = Math.floor(Math.sqrt(defaults.MAX_IMAGE_PIXELS * 1.5));
  height = Math.floor(defaults.MAX_IMAGE_PIXELS / width);
  const { data } = await sharp(demoPhoto(1)).resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    data[i] = Math.max(0, Math.min(255, data[i] + ((s >> 16) % 61) - 30));
  }
  const limit = defaults.MAX_BODY_SIZE * 1024 * 1024 - 64;
  for (let q = 98; ; q -= 2) {
    const jpeg = await sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: q }).toBuffer();
    if (Math.ceil(jpeg.length / 3) * 4 < limit) return jpeg;
  }
}

beforeAll(async () => {
  // One function, as Knative runs it: the default limits, and the module threads its manifest gives a
  // pod of the default one CPU (none: the module runs on the HTTP thread).
  const manifest = parseAllDocuments(readFileSync(join(projectRoot, 'knative', `${TARGET}.yaml`), 'utf8'))
    .map((d) => d.toJS() as KnativeService)
    .find((o) => o.kind === 'Service')!;
  const moduleWorkers = manifest.spec.template.spec.containers[0].env.find((e) => e.name === 'MODULE_WORKERS')?.value;
  expect(moduleWorkers).toBe('0');
  [server] = await Promise.all([
    startServer({ target: TARGET, env: { MODULE_WORKERS: moduleWorkers! } }),
    largestAllowed().then((jpeg) => {
      body = JSON.stringify({ $image: jpeg.toString('base64') });
    }),
  ]);
});

afterAll(async () => {
  await server.stop();
});

describe(`memory at the default limits (${TARGET} as a function)`, () => {
  it('the largest allowed requests, as many at once as it takes, peak under 512 MiB', async () => {
    expect(width * height).toBeLessThanOrEqual(defaults.MAX_IMAGE_PIXELS);
    expect(body.length).toBeGreaterThan(defaults.MAX_BODY_SIZE * 1024 * 1024 * 0.8);
    const atRest = memoryMiB(server.child.pid!);
    const bursts: number[] = [];
    for (let burst = 0; burst < 3; burst++) {
      const replies = await Promise.all(
        Array.from({ length: defaults.MAX_CONCURRENT_REQUESTS + 1 }, () => send(server.url, { path: '/process/sample', headers: json({}).headers, body, timeoutMs: 60_000 })),
      );
      for (const r of replies) {
        expect(r.status).toBe(200);
        expect((r.json as { objects: unknown[] }).objects).toHaveLength(3);
      }
      bursts.push(memoryMiB(server.child.pid!).rss);
    }
    const { peak } = memoryMiB(server.child.pid!);
    console.log(
      `${TARGET}: ${width}×${height}, body ${(body.length / 1048576).toFixed(1)} MiB; RSS at rest ${atRest.rss.toFixed(0)} MiB, ` +
        `after bursts ${bursts.map((b) => b.toFixed(0)).join(', ')} MiB, peak ${peak.toFixed(0)} MiB`,
    );
    expect(peak).toBeLessThan(480);
    // glibc keeps what it freed, so the first bursts raise RSS; after that it must level off.
    expect(bursts[2]).toBeLessThan(Math.max(bursts[0], bursts[1]) * 1.15);
  });

  it('an image over MAX_IMAGE_PIXELS is decoded at reduced size, not refused', async () => {
    // Two rows, as libvips caps a row at 10 M pixels. (MAX_INPUT_PIXELS refusals: the bad-input matrix's bombs.)
    const image = await sharp({ create: { width: Math.ceil((defaults.MAX_IMAGE_PIXELS + 1) / 2), height: 2, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer();
    const r = await send(server.url, { path: '/process/sample', ...json({ $image: image.toString('base64') }) });
    expect(r.status).toBe(200);
  });
});
