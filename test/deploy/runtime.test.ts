import { randomUUID } from 'node:crypto';
import { CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { validateManifests } from '../../shared/deploy/manifest-validation.js';
import { demoPhoto, oneFace640 } from '../support/fixtures.js';
import { containerEnvOf, deploymentOf, editedValues, fitterPath, knEnvUpdate, knService, shippedValues } from './support.js';

/**
 * Proof at run time: functions started as separate processes (the built dist/ code) with exactly the env
 * of their generated manifests, plus PORT=0 (Knative would set PORT to the container port).
 */
type Obj = Record<string, unknown>;
const FITTER = 'face-detector-face-fitter';
const EXTRACTOR = 'face-detector-template-extractor';
const photo = demoPhoto(1); // 1920×1280, three faces of ~200–300 px

const shipped = deploymentOf(shippedValues());
/** The same values with the fitter's CAPTURER min_size at 400: larger than every face in the photo. */
const strict = deploymentOf(editedValues([[fitterPath('configs', 0, 'params', 'min_size'), 400]]));

function start(env: Record<string, string>): Promise<ServerProcess> {
  return startServer({ target: env.FUNCTION_TARGET, env: { ...env, PORT: '0' } });
}

let fitter: ServerProcess;
let extractor: ServerProcess;
const started: ServerProcess[] = [];

beforeAll(async () => {
  [fitter, extractor] = await Promise.all([start(containerEnvOf(knService(shipped, FITTER))), start(containerEnvOf(knService(shipped, EXTRACTOR)))]);
  started.push(fitter, extractor);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

const sample = () => ({ $image: photo.toString('base64'), objects: [] });

async function send(url: string, init: RequestInit): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const r = await fetch(url, { method: 'POST', ...init });
  return { status: r.status, headers: Object.fromEntries(r.headers.entries()), body: await r.text() };
}

function replyEvent(r: { headers: Record<string, string>; body: string }): CloudEvent<Obj> {
  const event = HTTP.toEvent({ headers: r.headers, body: r.body });
  return (Array.isArray(event) ? event[0] : event) as CloudEvent<Obj>;
}

describe('functions started with the env of their generated manifests', () => {
  it('a plain HTTP request: the fitter finds the three faces with min_size 20 (shipped values)', async () => {
    expect(containerEnvOf(knService(shipped, FITTER)).CAPTURER_MIN_SIZE).toBe('20');
    const r = await postImage(fitter.url, '/process/image', photo);
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(3);
  });

  it('a binary-mode CloudEvent gets a valid CloudEvent reply (type …result, requestid = the request id)', async () => {
    const id = randomUUID();
    const r = await send(`${fitter.url}/`, {
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/test/deploy',
        'ce-type': `imageapi.${FITTER}.process`,
      },
      body: JSON.stringify(sample()),
    });
    expect(r.status).toBe(200);
    const event = replyEvent(r);
    expect(event.validate()).toBe(true);
    expect(event.type).toBe(`imageapi.${FITTER}.result`);
    expect(event.requestid).toBe(id);
    expect((event.data?.objects as Obj[]).length).toBe(3);
  });

  it('a structured-mode CloudEvent is answered the same way', async () => {
    const id = randomUUID();
    const request = new CloudEvent({ id, source: '/test/deploy', type: `imageapi.${FITTER}.process`, datacontenttype: 'application/json', data: sample() });
    const message = HTTP.structured(request);
    const r = await send(`${fitter.url}/`, { headers: message.headers as Record<string, string>, body: message.body as string });
    expect(message.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(r.status).toBe(200);
    const event = replyEvent(r);
    expect(event.type).toBe(`imageapi.${FITTER}.result`);
    expect(event.requestid).toBe(id);
    expect((event.data?.objects as Obj[]).length).toBe(3);
  });

  it('a failing event is answered with an …error CloudEvent carrying the contract error body (never a plain JSON body)', async () => {
    const id = randomUUID();
    const r = await send(`${fitter.url}/`, {
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': '/t', 'ce-type': `imageapi.${FITTER}.process` },
      body: JSON.stringify({ $image: 'not base64 at all!', objects: [] }),
    });
    expect(r.status).toBe(200);
    const event = replyEvent(r);
    expect(event.type).toBe(`imageapi.${FITTER}.error`);
    expect(event.requestid).toBe(id);
    expect(event.data).toHaveProperty('detail');
  });

  it('the second function (template extractor) answers HTTP and a CloudEvent with templates', async () => {
    const face = (await oneFace640()).toString('base64');
    const http = await postSample(extractor.url, '/process/sample', { $image: face, objects: [] });
    expect(http.status).toBe(200);
    expect(typeof http.body.objects?.[0]?.$template).toBe('string');
    const r = await send(`${extractor.url}/`, {
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'x-1', 'ce-source': '/t', 'ce-type': `imageapi.${EXTRACTOR}.process` },
      body: JSON.stringify({ $image: face, objects: [] }),
    });
    const event = replyEvent(r);
    expect(event.type).toBe(`imageapi.${EXTRACTOR}.result`);
    expect(typeof (event.data?.objects as Obj[])[0].$template).toBe('string');
  });

  it('a params override in the values file changes behaviour: CAPTURER min_size 400 drops every face', async () => {
    const env = containerEnvOf(knService(strict, FITTER));
    expect(env.CAPTURER_MIN_SIZE).toBe('400');
    const server = await start(env);
    started.push(server);
    const r = await postImage(server.url, '/process/image', photo);
    expect(r.status).toBe(200);
    expect(r.body.objects).toEqual([]);
    await server.stop();
  });

  it('`kn service update --env CAPTURER_MIN_SIZE=400` takes effect when the new revision starts', async () => {
    const updated = knEnvUpdate(knService(shipped, FITTER), 'CAPTURER_MIN_SIZE', '400');
    expect(validateManifests([updated]).issues).toEqual([]);
    await fitter.stop(); // the old revision goes away…
    const restarted = await start(containerEnvOf(updated)); // …and the new one reads the changed env
    started.push(restarted);
    const r = await postImage(restarted.url, '/process/image', photo);
    expect(r.body.objects).toEqual([]);
    await restarted.stop();
  });

  it('a misspelt variable set the same way stops the new revision at start-up with a one-line message', async () => {
    const updated = knEnvUpdate(knService(shipped, FITTER), 'CAPTURER_MIN_SISE', '400');
    await expect(start(containerEnvOf(updated))).rejects.toThrow(/image-api: env CAPTURER_MIN_SISE: unknown capturer parameter; valid: .*CAPTURER_MIN_SIZE/);
  });
});
