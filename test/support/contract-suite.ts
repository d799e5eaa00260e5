import { expect, it } from 'vitest';
import { FaceLandmarkNames } from '../../shared/contract/objects.js';
import { postImage, postSample, type SampleReply } from '../../scripts/lib/server-process.js';
import { demoPhoto, noFaceImage } from './fixtures.js';

type Obj = Record<string, unknown>;
const SERVICES = ['face-detector-face-fitter', 'face-detector-template-extractor'] as const;

/** Checks every face object the detector services return, as the contract and the issue state them. */
export function expectFaceObjects(objects: Obj[], width: number, height: number, count: number, withTemplate: boolean): void {
  expect(objects).toHaveLength(count);
  let upright = 0;
  objects.forEach((o, i) => {
    expect(o.id).toBe(i);
    expect(o.class).toBe('face');
    expect(o.confidence as number).toBeGreaterThan(0.7);
    const [x1, y1, x2, y2] = o.bbox as number[];
    for (const v of [x1, y1, x2, y2]) expect(v >= 0 && v <= 1).toBe(true);
    const fitter = o.fitter as { fitter_type: string; keypoints: number[]; left_eye: number[]; right_eye: number[] };
    expect(fitter.fitter_type).toBe('fda');
    expect(fitter.keypoints).toHaveLength(63);
    const w = (x2 - x1) * width, h = (y2 - y1) * height;
    for (let k = 0; k < 21; k++) {
      const px = fitter.keypoints[3 * k], py = fitter.keypoints[3 * k + 1];
      expect(px).toBeGreaterThanOrEqual(x1 * width - 0.15 * w);
      expect(px).toBeLessThanOrEqual(x2 * width + 0.15 * w);
      expect(py).toBeGreaterThanOrEqual(y1 * height - 0.15 * h);
      expect(py).toBeLessThanOrEqual(y2 * height + 0.15 * h);
    }
    const y = (name: (typeof FaceLandmarkNames)[number]) => fitter.keypoints[3 * FaceLandmarkNames.indexOf(name) + 1];
    const angles = o.angles as { yaw: number; pitch: number; roll: number };
    if (Math.abs(angles.roll) < 15) {
      // Upright faces: eyes above nose above mouth.
      expect(Math.max(y('left_eye'), y('right_eye'))).toBeLessThan(y('nose'));
      expect(y('nose')).toBeLessThan(y('mouth'));
      upright++;
    }
    expect(fitter.left_eye[0]).toBeLessThan(fitter.right_eye[0]);
    for (const a of [angles.yaw, angles.pitch, angles.roll]) expect(Math.abs(a)).toBeLessThanOrEqual(99);
    if (withTemplate) {
      expect(typeof o.$template).toBe('string');
      expect(o.template_size).toBe(Buffer.from(o.$template as string, 'base64').length);
    } else {
      expect(o.$template).toBeUndefined();
    }
  });
  expect(upright).toBeGreaterThan(0);
}

/**
 * The HTTP contract of the three face services, run against a server's base URL (in-process or a
 * separate process). The server must run with MAX_BODY_SIZE=2 (MB).
 */
export function contractSuite(url: () => string): void {
  const photo = demoPhoto(1); // 1920×1280, three faces

  for (const service of SERVICES) {
    const withTemplate = service === 'face-detector-template-extractor';
    it(`${service} process/image: a multi-face photo`, async () => {
      const r = await postImage(url(), `/${service}/process/image`, photo);
      expect(r.status).toBe(200);
      expect(r.body.$image).toBe(photo.toString('base64'));
      expectFaceObjects(r.body.objects!, 1920, 1280, 3, withTemplate);
      expect(r.headers.get('server-timing')).toMatch(/decode;dur=[\d.]+, inference;dur=[\d.]+/);
    });

    it(`${service} process/sample: a multi-face photo, the client's objects and fields kept`, async () => {
      const r = await postSample(url(), `/${service}/process/sample`, {
        $image: photo.toString('base64'),
        objects: [{ id: 7, class: 'body', bbox: [0.1, 0.1, 0.2, 0.2], note: 'kept' }, {}],
        client_field: 1,
      });
      expect(r.status).toBe(200);
      expect(r.body.client_field).toBe(1);
      const [body, ...faces] = r.body.objects!;
      expect(body).toEqual({ id: 7, class: 'body', bbox: [0.1, 0.1, 0.2, 0.2], note: 'kept' });
      expect(faces.map((f) => f.id)).toEqual([8, 9, 10]);
      expectFaceObjects(faces.map((f, i) => ({ ...f, id: i })), 1920, 1280, 3, withTemplate);
    });

    it(`${service}: an image without faces gives empty objects, not an error`, async () => {
      const image = await noFaceImage();
      const a = await postImage(url(), `/${service}/process/image`, image);
      expect(a.status).toBe(200);
      expect(a.body.objects).toEqual([]);
      const b = await postSample(url(), `/${service}/process/sample`, { $image: image.toString('base64') });
      expect(b.status).toBe(200);
      expect(b.body.objects).toEqual([]);
    });

    it(`${service}: bad input gets the contract's status and body`, async () => {
      const path = `/${service}/process/sample`;
      expect(await postSample(url(), path, { $image: 'this is not base64!' })).toMatchObject({ status: 400, body: { detail: 'Failed to decode base64 string' } });
      const missing = await postSample(url(), path, { objects: [] });
      expect(missing.status).toBe(422);
      expect(missing.body.detail).toEqual([{ loc: ['body', '$image'], msg: 'Field required', type: 'missing' }]);
      const notImage = await postSample(url(), path, { $image: Buffer.from('plain text, not an image').toString('base64') });
      expect(notImage).toMatchObject({ status: 400, body: { detail: 'This image format is not supported' } });
      const upload = await postImage(url(), `/${service}/process/image`, Buffer.from('plain text'), 'notes.txt');
      expect(upload).toMatchObject({ status: 400, body: { detail: 'This image format is not supported' } });
      const huge = await fetch(`${url()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ $image: 'A'.repeat(3 * 1024 * 1024) }) });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toEqual({ detail: 'Request body size is too large' });
    });
  }

  it('verify-matcher process/sample: two templates → distance, fa_r, fr_r, score', async () => {
    const extracted = await postImage(url(), '/face-detector-template-extractor/process/image', photo);
    const [a, b] = extracted.body.objects!;
    const same = await postSample(url(), '/verify-matcher/process/sample', { objects: [{ class: 'face', $template: a.$template }, { class: 'face', $template: a.$template }] });
    expect(same.status).toBe(200);
    const v = same.body.verification as { distance: number; fa_r: number; fr_r: number; score: number };
    expect(v.distance).toBeCloseTo(0, 5);
    expect(v.score).toBeGreaterThan(0.99);
    const other = await postSample(url(), '/verify-matcher/process/sample', { objects: [{ class: 'face', $template: a.$template }, { class: 'face', $template: b.$template }] });
    const w = other.body.verification as typeof v;
    expect(w.distance).toBeGreaterThan(1);
    expect(w.score).toBeLessThan(0.5);
    expect(w.fr_r).toBeLessThan(1);
    expect(other.body.objects).toHaveLength(2);
  });

  it('verify-matcher process/image: an image with two or more faces is compared without templates', async () => {
    const r = await postImage(url(), '/verify-matcher/process/image', photo);
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(2);
    expect((r.body.verification as { distance: number }).distance).toBeGreaterThan(0.8);
  });

  it('verify-matcher: missing, garbage and foreign templates are 400s with clear messages', async () => {
    const path = '/verify-matcher/process/sample';
    expect(await postSample(url(), path, { objects: [] })).toMatchObject({ status: 400, body: { detail: 'No object were passed' } });
    const garbage: SampleReply = await postSample(url(), path, { objects: [{ class: 'face', $template: 'AAAA' }, { class: 'face', $template: 'AAAA' }] });
    expect(garbage.status).toBe(400);
    expect(garbage.body.detail).toMatch(/^Invalid face template/);
    const extracted = await postImage(url(), '/face-detector-template-extractor/process/image', photo);
    const mine = extracted.body.objects![0].$template as string;
    // Same layout, another method tag: must never be compared silently.
    const raw = Buffer.from(mine, 'base64');
    const foreign = Buffer.concat([raw.subarray(0, 6), Buffer.from('fr_feature-512.v9'), raw.subarray(6 + 17)]);
    const mixed = await postSample(url(), path, { objects: [{ class: 'face', $template: mine }, { class: 'face', $template: foreign.toString('base64') }] });
    expect(mixed.status).toBe(400);
    expect(mixed.body.detail).toMatch(/different recognizer methods/);
  });

  it('serves /health, /openapi.json and /docs', async () => {
    const health = await (await fetch(`${url()}/health`)).json();
    expect(health.status).toBe('ready');
    const doc = await (await fetch(`${url()}/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toContain('/face-detector-face-fitter/process/sample');
    const schema = doc.paths['/face-detector-face-fitter/process/sample'].post.requestBody.content['application/json'].schema;
    expect(schema.required).toContain('$image');
    expect((await fetch(`${url()}/docs`)).headers.get('content-type')).toMatch(/text\/html/);
  });

  it('answers a binary-mode CloudEvent with a CloudEvent holding the faces', async () => {
    const r = await fetch(`${url()}/face-detector-face-fitter`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'req-42',
        'ce-source': '/test',
        'ce-type': 'imageapi.face-detector-face-fitter.process',
      },
      body: JSON.stringify({ $image: photo.toString('base64') }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('ce-type')).toBe('imageapi.face-detector-face-fitter.result');
    expect(r.headers.get('ce-requestid')).toBe('req-42');
    expect(r.headers.get('ce-specversion')).toBe('1.0');
    const data = await r.json();
    expect(data.objects).toHaveLength(3);
  });
}
