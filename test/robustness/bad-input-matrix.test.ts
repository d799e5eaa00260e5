/**
 * Bad, odd and hostile input on every route of every service the server serves (read from its
 * /openapi.json, so services added to the values file are covered without editing this file). Each case
 * gets its documented status and the contract's error body, and right after it the same service answers
 * a normal request exactly as it did before the matrix started (byte for byte). The normal request is
 * cheap on purpose (a 160-px face; two templates for the matcher) so that the matrix stays fast as
 * services are added; the image cases use a two-face photo and are compared with its reference answer.
 *
 * The server runs as a separate process with small limits: MAX_BODY_SIZE=2 (MB), MAX_IMAGE_PIXELS=4 MP.
 */
import { connect } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Messages } from '../../shared/contract/errors.js';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import {
  animated,
  bmp24,
  expectDetail,
  expectIssues,
  jpegClaiming,
  json,
  multipart,
  pngBomb,
  send,
  servedServices,
  smallFace,
  twoFaces,
  upload,
  type RawRequest,
  type Reply,
  type ServedService,
} from './support.js';

const LIMITS = { MAX_BODY_SIZE: '2', MAX_IMAGE_PIXELS: '4000000', MAX_INPUT_PIXELS: '4000000' };
const MAX_BYTES = 2 * 1024 * 1024;
const TOO_LARGE = /^Image is too large: .*MAX_INPUT_PIXELS/;

/**
 * What a decodable image gets. Detectors answer 200 whatever the picture; other modules may give a
 * verdict on the picture itself (the matcher's "needs two faces", a liveness quality gate): a 400 whose
 * message is none of the input errors.
 */
const ALWAYS_200 = new Set(['face-detector-face-fitter', 'face-detector-template-extractor', 'body-detector']);
const FACE_DETECTORS = new Set(['face-detector-face-fitter', 'face-detector-template-extractor']);
const INPUT_ERRORS = [Messages.badBase64, Messages.badFormat, Messages.bodyTooLarge];

type Obj = Record<string, unknown>;

interface Fixtures {
  small: Buffer;
  photo: Buffer;
  b64: string;
  cmyk: Buffer;
  rgb16: Buffer;
  grey: Buffer;
  alpha: Buffer;
  exif: Buffer;
  gif: Buffer;
  webp: Buffer;
  tiff: Buffer;
  bmp: Buffer;
  png: Buffer;
  onePixel: Buffer;
  strip: Buffer;
  solidOverLimit: Buffer;
  templates?: [string, string];
}

let server: ServerProcess;
let services: ServedService[] = [];
let fx: Fixtures;
/** Per service: its answer to the normal request, and to the two-face photo. */
const baseline = new Map<string, Reply>();
const reference = new Map<string, Reply>();

const normal = (s: ServedService): RawRequest =>
  s.module === 'verify-matcher' && fx.templates
    ? { path: `/${s.service}/process/sample`, ...json({ objects: fx.templates.map(($template) => ({ class: 'face', $template })) }) }
    : { path: `/${s.service}/process/sample`, ...json({ $image: fx.small.toString('base64') }) };
const photoRequest = (s: ServedService): RawRequest => ({ path: `/${s.service}/process/sample`, ...json({ $image: fx.b64 }) });

async function fixtures(): Promise<Fixtures> {
  const photo = await twoFaces();
  const raw = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
  // Stored portrait with orientation 8: displays (and must be analysed) as the upright landscape photo.
  const exif = await sharp(photo).rotate(90).jpeg().withMetadata({ orientation: 8 }).toBuffer();
  return {
    small: await smallFace(),
    photo,
    b64: photo.toString('base64'),
    cmyk: await sharp(photo).toColourspace('cmyk').jpeg().toBuffer(),
    rgb16: await sharp(photo).toColourspace('rgb16').png().toBuffer(),
    grey: await sharp(photo).greyscale().jpeg().toBuffer(),
    alpha: await sharp(photo).ensureAlpha(0.6).png().toBuffer(),
    exif,
    gif: await animated(photo, 'gif'),
    webp: await animated(photo, 'webp'),
    tiff: await sharp(photo).tiff().toBuffer(),
    bmp: bmp24(raw.info.width, raw.info.height, raw.data),
    png: await sharp(photo).png().toBuffer(),
    onePixel: await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer(),
    strip: await sharp({ create: { width: 4000, height: 1, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toBuffer(),
    // 9 MP of one colour: ~30 kB on the wire, over the 4 MP limit once decoded.
    solidOverLimit: await sharp({ create: { width: 3000, height: 3000, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png({ compressionLevel: 9 }).toBuffer(),
  };
}

beforeAll(async () => {
  [server, fx] = await Promise.all([startServer({ env: LIMITS }), fixtures()]);
  services = await servedServices(server.url);
  const extractor = services.find((s) => s.module === 'face-detector-template-extractor');
  if (extractor) {
    const r = await send(server.url, photoRequest(extractor));
    const faces = (r.json as { objects: Obj[] }).objects;
    fx.templates = [faces[0].$template as string, faces[1].$template as string];
  }
  for (const s of services) {
    const r = await send(server.url, normal(s));
    expect(r.status, `${s.service} answers the normal request`).toBe(200);
    baseline.set(s.service, r);
    const p = await send(server.url, photoRequest(s));
    if (ALWAYS_200.has(s.module) || isMatcher(s)) expect(p.status, `${s.service} answers the two-face photo`).toBe(200);
    if (FACE_DETECTORS.has(s.module)) expect(objectsOf(p)).toHaveLength(2);
    reference.set(s.service, p);
  }
});

afterAll(async () => {
  // A crash or a logged 5xx anywhere in the matrix fails here even if each answer looked right.
  expect(server.child.exitCode).toBeNull();
  expect(server.output()).not.toMatch(/unexpected error|"severity":"ERROR"/);
  await server.stop();
});

/** After every case: the service still answers the normal request, byte for byte as before. */
async function stillServes(s: ServedService): Promise<void> {
  const r = await send(server.url, normal(s));
  expect(r.status).toBe(200);
  expect(r.json).toEqual(baseline.get(s.service)!.json);
}

const objectsOf = (r: Reply) => (r.json as { objects: Obj[] }).objects;

const byX = (objects: Obj[]) => objects.filter((o) => o.class === 'face').sort((a, b) => (a.bbox as number[])[0] - (b.bbox as number[])[0]);

/**
 * A decodable image: see ALWAYS_200. `faces`: how many faces a face detector must find; for a variant
 * of the two-face photo, each face's bbox is within 0.04 of the reference answer's (a colour, depth or
 * orientation mistake moves or loses faces).
 */
function expectValidImage(r: Reply, s: ServedService, faces?: number): void {
  if (ALWAYS_200.has(s.module) || r.status === 200) {
    expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 200 });
    expect(Array.isArray(objectsOf(r))).toBe(true);
    for (const o of objectsOf(r)) {
      if (!Array.isArray(o.bbox)) continue;
      for (const v of o.bbox as number[]) expect(v >= 0 && v <= 1).toBe(true);
    }
    if (faces !== undefined && FACE_DETECTORS.has(s.module)) {
      const found = byX(objectsOf(r));
      expect(found).toHaveLength(faces);
      if (faces === 2) {
        const expected = byX(objectsOf(reference.get(s.service)!));
        found.forEach((o, i) => (o.bbox as number[]).forEach((v, k) => expect(Math.abs(v - (expected[i].bbox as number[])[k])).toBeLessThan(0.04)));
      }
    }
    if (faces === 2 && isMatcher(s)) expect(r.json).toHaveProperty('verification.distance');
  } else {
    expectDetail(r, 400);
    expect(INPUT_ERRORS).not.toContain((r.json as { detail: string }).detail);
    expect((r.json as { detail: string }).detail).not.toMatch(TOO_LARGE);
  }
}

/** The reference answer to the two-face photo, all of it. */
function expectReference(r: Reply, s: ServedService): void {
  const ref = reference.get(s.service)!;
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: ref.status });
  expect(r.json).toEqual(ref.json);
}

/** The reference answer's objects and verification (the echo of `$image` may differ). */
function expectReferenceObjects(r: Reply, s: ServedService): void {
  const ref = reference.get(s.service)!;
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: ref.status });
  const base = ref.json as Obj;
  expect((r.json as Obj).objects).toEqual(base.objects);
  expect((r.json as Obj).verification).toEqual(base.verification);
}

/** A CloudEvent reply: always 200 (a Broker counts anything else as a failed delivery), type result or error. */
function expectEvent(r: Reply, s: ServedService, kind: 'result' | 'error'): Obj {
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 200 });
  expect(r.headers['ce-type']).toBe(`imageapi.${s.service}.${kind}`);
  expect(r.headers['ce-specversion']).toBe('1.0');
  return r.json as Obj;
}

const asReply = (status: number, body: unknown): Reply => ({ status, headers: { 'content-type': 'application/json' }, text: JSON.stringify(body), json: body });

interface Case {
  name: string;
  applies?: (s: ServedService) => boolean;
  request: (s: ServedService) => RawRequest;
  check: (r: Reply, s: ServedService) => void;
}

const sample = (s: ServedService, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): RawRequest => ({
  path: `/${s.service}/process/sample`,
  headers,
  body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
});
const sampleImage = (s: ServedService, bytes: Buffer) => sample(s, { $image: bytes.toString('base64') });
const image = (s: ServedService, bytes: Buffer, filename = 'image') => ({ path: `/${s.service}/process/image`, ...upload(bytes, filename) });
const ceHeaders = (s: ServedService, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': 'matrix-1',
  'ce-source': '/robustness',
  'ce-type': `imageapi.${s.service}.process`,
  ...extra,
});
const isMatcher = (s: ServedService) => s.module === 'verify-matcher';
const withTemplates = (s: ServedService) => isMatcher(s) && fx.templates !== undefined;
const withRole = (objects: Obj[]) => ({ objects });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const cases: Case[] = [
  // ---- process/sample: content types and JSON ----
  { name: 'sample: no Content-Type at all, JSON body (read as JSON)', request: (s) => ({ ...sample(s, { $image: fx.b64 }), headers: {} }), check: expectReference },
  { name: 'sample: text/plain holding JSON (read as JSON)', request: (s) => sample(s, { $image: fx.b64 }, { 'content-type': 'text/plain' }), check: expectReference },
  { name: 'sample: application/json; charset=utf-8', request: (s) => sample(s, { $image: fx.b64 }, { 'content-type': 'application/json; charset=utf-8' }), check: expectReference },
  { name: 'sample: application/xml → 415', request: (s) => sample(s, '<image/>', { 'content-type': 'application/xml' }), check: (r) => expectDetail(r, 415) },
  { name: 'sample: a multipart upload → 415', request: (s) => ({ path: `/${s.service}/process/sample`, ...upload(fx.photo) }), check: (r) => expectDetail(r, 415) },
  { name: 'sample: gzip Content-Encoding → 415', request: (s) => ({ ...sample(s, '\x1f\x8b\x08\x00'), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }), check: (r) => expectDetail(r, 415, /Content-Encoding/) },
  { name: 'sample: empty body → 422', request: (s) => sample(s, ''), check: (r) => expectIssues(r, ['body'], 'missing') },
  { name: 'sample: not JSON → 422', request: (s) => sample(s, 'image=please'), check: (r) => expectIssues(r, ['body'], 'json_invalid') },
  {
    name: 'sample: JSON cut inside the base64 → 422 that quotes none of it',
    request: (s) => sample(s, `{"$image":"${fx.b64.slice(0, 5000)}`),
    check: (r) => {
      expectIssues(r, ['body'], 'json_invalid');
      expect(r.text).not.toContain(fx.b64.slice(4980, 4990));
    },
  },
  { name: 'sample: a JSON array → 422', request: (s) => sample(s, [{ $image: fx.b64 }]), check: (r) => expectIssues(r, ['body']) },
  { name: 'sample: JSON null → 422', request: (s) => sample(s, 'null'), check: (r) => expectIssues(r, ['body']) },
  { name: 'sample: a JSON string → 422', request: (s) => sample(s, JSON.stringify(fx.b64)), check: (r) => expectIssues(r, ['body']) },
  { name: 'sample: objects is an object → 422', request: (s) => sample(s, { $image: fx.b64, objects: { 0: { class: 'face' } } }), check: (r) => expectIssues(r, ['body', 'objects'], 'invalid_type') },
  { name: 'sample: an object is a number → 422', request: (s) => sample(s, { $image: fx.b64, objects: [5] }), check: (r) => expectIssues(r, ['body', 'objects', 0]) },
  { name: 'sample: $image is a number → 422', request: (s) => sample(s, { $image: 12345 }), check: (r) => expectIssues(r, ['body', '$image'], 'invalid_type') },
  { name: 'sample: $image is null → 422', request: (s) => sample(s, { $image: null }), check: (r) => expectIssues(r, ['body', '$image']) },
  { name: 'sample: $image is an array of bytes → 422', request: (s) => sample(s, { $image: [...fx.photo.subarray(0, 64)] }), check: (r) => expectIssues(r, ['body', '$image']) },
  {
    name: 'sample: no $image (422 where required; the matcher: no objects)',
    request: (s) => sample(s, { objects: [] }),
    check: (r, s) => {
      if (s.imageRequired) expect(expectIssues(r, ['body', '$image'], 'missing')[0]).toEqual({ loc: ['body', '$image'], msg: 'Field required', type: 'missing' });
      else expectDetail(r, 400, isMatcher(s) ? Messages.noObjects : undefined);
    },
  },
  // ---- objects ----
  { name: 'sample: bbox outside 0..1 → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ class: 'face', bbox: [0.1, 0.1, 1.5, 0.9] }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'bbox']) },
  { name: 'sample: negative bbox → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ class: 'face', bbox: [-0.1, 0.1, 0.5, 0.9] }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'bbox']) },
  { name: 'sample: inverted bbox → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ class: 'face', bbox: [0.6, 0.6, 0.2, 0.2] }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'bbox']) },
  { name: 'sample: bbox of three numbers → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ class: 'face', bbox: [0.1, 0.1, 0.5] }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'bbox']) },
  { name: 'sample: bbox of strings → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ class: 'face', bbox: ['0.1', '0.1', '0.5', '0.5'] }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'bbox', 0]) },
  { name: 'sample: negative id → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ id: -1, class: 'face' }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'id'], 'too_small') },
  { name: 'sample: fractional id → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ id: 1.5, class: 'face' }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'id']) },
  { name: 'sample: id a string → 422', request: (s) => sample(s, { $image: fx.b64, objects: [{ id: '3', class: 'face' }] }), check: (r) => expectIssues(r, ['body', 'objects', 0, 'id'], 'invalid_type') },
  { name: 'sample: id past 2^53 → 422', request: (s) => sample(s, `{"$image":"${fx.b64}","objects":[{"id":1e300}]}`), check: (r) => expectIssues(r, ['body', 'objects', 0, 'id']) },
  {
    name: 'sample: 2,500 objects, over MAX_OBJECTS → 422',
    request: (s) => sample(s, { $image: fx.b64, objects: Array.from({ length: 2500 }, (_, i) => ({ id: i, class: 'body', bbox: [0, 0, 0.5, 0.5] })) }),
    check: (r) => expectIssues(r, ['body', 'objects'], 'too_big'),
  },
  {
    name: 'sample: 999 objects, under MAX_OBJECTS → answered, every object kept',
    request: (s) => sample(s, { $image: fx.b64, objects: Array.from({ length: 999 }, (_, i) => ({ id: i, class: 'body', bbox: [0, 0, 0.5, 0.5] })) }),
    check: (r, s) => {
      expectValidImage(r, s);
      if (r.status === 200) expect(objectsOf(r).filter((o) => o.class === 'body' && o.id! < 999 && (o.bbox as number[])[2] === 0.5)).toHaveLength(999);
    },
  },
  { name: 'sample: JSON nested 10,000 deep in a client field → 422', request: (s) => sample(s, `{"$image":"${fx.b64}","x":${nested(10_000)}}`), check: (r) => expectIssues(r, ['body'], 'json_too_deep') },
  { name: 'sample: 300,000 numbers in a client field → 422', request: (s) => sample(s, `{"$image":"AAAA","x":[${'1,'.repeat(300_000)}1]}`), check: (r) => expectIssues(r, ['body'], 'json_too_large') },
  {
    name: 'sample: a client field nested 30 deep is echoed back',
    request: (s) => sample(s, `{"$image":"${fx.b64}","x":${nested(30)}}`),
    check: (r, s) => {
      expectValidImage(r, s, 2);
      expect(JSON.stringify((r.json as Obj).x)).toBe(nested(30));
    },
  },
  // ---- $image content ----
  { name: 'sample: $image not base64 → 400', request: (s) => sample(s, { $image: 'this is not base64!' }), check: (r) => expectDetail(r, 400, Messages.badBase64) },
  { name: 'sample: $image empty → 400', request: (s) => sample(s, { $image: '' }), check: (r) => expectDetail(r, 400, Messages.badBase64) },
  { name: 'sample: $image in the base64url alphabet → 400', request: (s) => sample(s, { $image: fx.photo.toString('base64url') }), check: (r) => expectDetail(r, 400, Messages.badBase64) },
  { name: 'sample: $image with a data: URL prefix (tolerated)', request: (s) => sample(s, { $image: `data:image/jpeg;base64,${fx.b64}` }), check: expectReferenceObjects },
  { name: 'sample: $image with MIME line breaks (tolerated)', request: (s) => sample(s, { $image: fx.b64.replace(/.{76}/g, '$&\r\n') }), check: expectReferenceObjects },
  { name: 'sample: base64 of text → 400', request: (s) => sampleImage(s, Buffer.from('a letter, not a picture')), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'sample: base64 of random bytes → 400', request: (s) => sampleImage(s, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251))), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'sample: truncated JPEG → 400', request: (s) => sampleImage(s, fx.photo.subarray(0, Math.floor(fx.photo.length * 0.6))), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'sample: truncated PNG → 400', request: (s) => sampleImage(s, fx.png.subarray(0, Math.floor(fx.png.length * 0.6))), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'sample: JPEG of only its header → 400', request: (s) => sampleImage(s, fx.photo.subarray(0, 600)), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'sample: PNG bomb, 100000×100000 in 300 bytes → 400 before decoding', request: (s) => sampleImage(s, pngBomb(100_000, 100_000)), check: (r) => expectDetail(r, 400, TOO_LARGE) },
  { name: 'sample: PNG bomb, 65535×65535 grey', request: (s) => sampleImage(s, pngBomb(65_535, 65_535)), check: (r) => expectDetail(r, 400, TOO_LARGE) },
  { name: 'sample: solid 9 MP PNG of 30 kB → 400', request: (s) => sampleImage(s, fx.solidOverLimit), check: (r) => expectDetail(r, 400, TOO_LARGE) },
  { name: 'sample: JPEG claiming 65000×65000 → 400', request: (s) => sampleImage(s, jpegClaiming(fx.photo, 65_000, 65_000)), check: (r) => expectDetail(r, 400, TOO_LARGE) },
  { name: 'sample: PNG bomb under the pixel limit, data missing → 400', request: (s) => sampleImage(s, pngBomb(2000, 1999)), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  {
    name: 'sample: SVG (never rendered) → 400',
    request: (s) => sampleImage(s, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="9" height="9"/></svg>')),
    check: (r) => expectDetail(r, 400, Messages.badFormat),
  },
  { name: 'sample: 1×1 PNG', request: (s) => sampleImage(s, fx.onePixel), check: (r, s) => expectValidImage(r, s, 0) },
  { name: 'sample: body over MAX_BODY_SIZE → 413', request: (s) => sample(s, { $image: 'A'.repeat(MAX_BYTES + 10) }), check: (r) => expectDetail(r, 413, Messages.bodyTooLarge) },
  {
    name: 'sample: chunked body over MAX_BODY_SIZE → 413',
    request: (s) => ({ ...sample(s, { $image: 'A'.repeat(MAX_BYTES * 2) }), headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }),
    check: (r) => expectDetail(r, 413, Messages.bodyTooLarge),
  },
  // ---- process/image ----
  { name: 'image: JSON instead of multipart → 415', request: (s) => ({ path: `/${s.service}/process/image`, ...json({ $image: fx.b64 }) }), check: (r) => expectDetail(r, 415) },
  { name: 'image: no Content-Type → 415', request: (s) => ({ path: `/${s.service}/process/image`, body: fx.photo }), check: (r) => expectDetail(r, 415) },
  { name: 'image: multipart without a boundary → 400', request: (s) => ({ path: `/${s.service}/process/image`, headers: { 'content-type': 'multipart/form-data' }, body: fx.photo }), check: (r) => expectDetail(r, 400) },
  {
    name: 'image: multipart whose boundary never appears → 400',
    request: (s) => ({ path: `/${s.service}/process/image`, headers: { 'content-type': 'multipart/form-data; boundary=nowhere' }, body: fx.photo }),
    check: (r) => expectDetail(r, 400),
  },
  {
    name: 'image: multipart cut before its closing boundary → 400',
    request: (s) => {
      const m = upload(fx.photo);
      return { path: `/${s.service}/process/image`, headers: m.headers, body: m.body.subarray(0, m.body.length - 60) };
    },
    check: (r) => expectDetail(r, 400),
  },
  {
    name: 'image: multipart without the image field → 422',
    request: (s) => ({ path: `/${s.service}/process/image`, ...multipart([{ name: 'photo', filename: 'a.jpg', data: fx.photo }]) }),
    check: (r) => expect(expectIssues(r, ['body', 'image'], 'missing')).toHaveLength(1),
  },
  { name: 'image: a text file as the image → 400', request: (s) => image(s, Buffer.from('dear diary'), 'notes.txt'), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'image: an empty file → 400', request: (s) => image(s, Buffer.alloc(0)), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'image: a plain text field named image → 400', request: (s) => ({ path: `/${s.service}/process/image`, ...multipart([{ name: 'image', data: 'hello' }]) }), check: (r) => expectDetail(r, 400, Messages.badFormat) },
  { name: 'image: CMYK JPEG', request: (s) => image(s, fx.cmyk), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: 16-bit PNG', request: (s) => image(s, fx.rgb16), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: greyscale JPEG', request: (s) => image(s, fx.grey), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: PNG with alpha', request: (s) => image(s, fx.alpha), check: (r, s) => expectValidImage(r, s, 2) },
  {
    name: 'image: EXIF-rotated JPEG is analysed upright',
    request: (s) => image(s, fx.exif),
    check: (r, s) => {
      expectValidImage(r, s, 2);
      if (FACE_DETECTORS.has(s.module)) {
        // Keypoints are in the displayed (landscape) frame.
        for (const o of objectsOf(r)) {
          const kp = (o.fitter as { keypoints: number[] }).keypoints;
          for (let k = 0; k < kp.length; k += 3) expect(kp[k] <= 600 && kp[k + 1] <= 320).toBe(true);
        }
      }
    },
  },
  { name: 'image: animated GIF (first frame)', request: (s) => image(s, fx.gif), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: animated WebP (first frame)', request: (s) => image(s, fx.webp), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: TIFF', request: (s) => image(s, fx.tiff), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: BMP', request: (s) => image(s, fx.bmp), check: (r, s) => expectValidImage(r, s, 2) },
  { name: 'image: 1×1 PNG', request: (s) => image(s, fx.onePixel), check: (r, s) => expectValidImage(r, s, 0) },
  { name: 'image: 4000×1 PNG strip', request: (s) => image(s, fx.strip), check: (r, s) => expectValidImage(r, s, 0) },
  { name: 'image: PNG bomb → 400', request: (s) => image(s, pngBomb(50_000, 50_000)), check: (r) => expectDetail(r, 400, TOO_LARGE) },
  { name: 'image: file over MAX_BODY_SIZE → 413', request: (s) => image(s, Buffer.concat([fx.photo, Buffer.alloc(MAX_BYTES)])), check: (r) => expectDetail(r, 413, Messages.bodyTooLarge) },
  {
    name: 'image: two image fields (the first is used)',
    request: (s) => ({ path: `/${s.service}/process/image`, ...multipart([{ name: 'image', filename: 'a.jpg', data: fx.photo }, { name: 'image', filename: 'b.txt', data: 'text' }]) }),
    check: (r, s) => expectValidImage(r, s, 2),
  },
  // ---- the CloudEvent root ----
  { name: 'event: plain JSON without CloudEvent headers → 400', request: (s) => ({ path: `/${s.service}/`, ...json({ $image: fx.b64 }) }), check: (r) => expectDetail(r, 400, /CloudEvent/) },
  {
    name: 'event: binary mode, valid → result event',
    request: (s) => ({ path: `/${s.service}`, headers: ceHeaders(s), body: JSON.stringify({ $image: fx.b64 }) }),
    check: (r, s) => {
      const data = expectEvent(r, s, 'result');
      expect(r.headers['ce-requestid']).toBe('matrix-1');
      if (reference.get(s.service)!.status === 200) expect(data.objects).toEqual((reference.get(s.service)!.json as Obj).objects);
      else expect(r.headers['ce-type']).toBeDefined();
    },
  },
  {
    name: 'event: structured mode, valid → result event',
    request: (s) => ({
      path: `/${s.service}`,
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: 'matrix-2', source: '/robustness', type: `imageapi.${s.service}.process`, datacontenttype: 'application/json', data: { $image: fx.b64 } }),
    }),
    check: (r, s) => {
      if (reference.get(s.service)!.status !== 200) return expect(r.headers['ce-type']).toBe(`imageapi.${s.service}.error`);
      expect(expectEvent(r, s, 'result').objects).toEqual((reference.get(s.service)!.json as Obj).objects);
    },
  },
  {
    name: 'event: bad base64 → error event with the 400 body',
    request: (s) => ({ path: `/${s.service}`, headers: ceHeaders(s), body: JSON.stringify({ $image: '%%%' }) }),
    check: (r, s) => expect(expectEvent(r, s, 'error')).toEqual({ detail: Messages.badBase64 }),
  },
  {
    name: 'event: data of the wrong shape → error event with the 422 body',
    request: (s) => ({ path: `/${s.service}`, headers: ceHeaders(s), body: JSON.stringify({ $image: fx.b64, objects: 'all of them' }) }),
    check: (r, s) => expectIssues(asReply(422, expectEvent(r, s, 'error')), ['body', 'objects']),
  },
  {
    name: 'event: data nested too deep → error event',
    request: (s) => ({ path: `/${s.service}`, headers: ceHeaders(s), body: `{"$image":"${fx.b64}","x":${nested(5000)}}` }),
    check: (r, s) => expectIssues(asReply(422, expectEvent(r, s, 'error')), ['body'], 'json_too_deep'),
  },
  {
    name: 'event: a type this service does not handle → error event',
    request: (s) => ({ path: `/${s.service}`, headers: ceHeaders(s, { 'ce-type': 'com.example.other' }), body: JSON.stringify({ $image: fx.b64 }) }),
    check: (r, s) => expectDetail(asReply(400, expectEvent(r, s, 'error')), 400, /not handled here/),
  },
  {
    name: 'event: only ce-specversion → error event',
    request: (s) => ({ path: `/${s.service}`, headers: { 'content-type': 'application/json', 'ce-specversion': '1.0' }, body: JSON.stringify({ $image: fx.b64 }) }),
    check: (r, s) => expectDetail(asReply(400, expectEvent(r, s, 'error')), 400, /^Invalid CloudEvent/),
  },
  {
    name: 'event: structured mode, not JSON → error event quoting none of it',
    request: (s) => ({ path: `/${s.service}`, headers: { 'content-type': 'application/cloudevents+json' }, body: `{"data":{"$image":"${fx.b64.slice(0, 3000)}` }),
    check: (r, s) => {
      expectDetail(asReply(400, expectEvent(r, s, 'error')), 400, /^Invalid CloudEvent/);
      expect(r.text).not.toContain(fx.b64.slice(2990, 3000));
    },
  },
  { name: 'event: GET on the root → 405', request: (s) => ({ method: 'GET', path: `/${s.service}/` }), check: (r) => expectDetail(r, 405) },
  { name: 'event: DELETE on the root → 405', request: (s) => ({ method: 'DELETE', path: `/${s.service}` }), check: (r) => expectDetail(r, 405) },
  // ---- health, methods, unknown routes ----
  {
    name: 'health: GET → 200 ready',
    request: (s) => ({ method: 'GET', path: `/${s.service}/health` }),
    check: (r, s) => expect(r).toMatchObject({ status: 200, json: { status: 'ready', service: s.service, module: s.module } }),
  },
  { name: 'health: GET with a 1 MB body (dropped)', request: (s) => ({ method: 'GET', path: `/${s.service}/health`, body: Buffer.alloc(1 << 20, 0x41) }), check: (r) => expect(r.status).toBe(200) },
  {
    name: 'health: GET with a body over MAX_BODY_SIZE → 413',
    request: (s) => ({ method: 'GET', path: `/${s.service}/health`, body: Buffer.alloc(MAX_BYTES + 1, 0x41) }),
    check: (r) => expectDetail(r, 413, Messages.bodyTooLarge),
  },
  { name: 'health: POST → 405', request: (s) => ({ path: `/${s.service}/health`, ...json({}) }), check: (r) => (expectDetail(r, 405), expect(r.headers.allow).toBe('GET')) },
  { name: 'method: GET process/sample → 405', request: (s) => ({ method: 'GET', path: `/${s.service}/process/sample` }), check: (r) => (expectDetail(r, 405), expect(r.headers.allow).toBe('POST')) },
  { name: 'method: PUT process/image → 405', request: (s) => ({ method: 'PUT', path: `/${s.service}/process/image`, ...upload(fx.photo) }), check: (r) => expectDetail(r, 405) },
  { name: 'method: PATCH process/sample → 405', request: (s) => ({ method: 'PATCH', ...sample(s, { $image: fx.b64 }) }), check: (r) => expectDetail(r, 405) },
  { name: 'method: HEAD process/sample → 405', request: (s) => ({ method: 'HEAD', path: `/${s.service}/process/sample` }), check: (r) => expect(r.status).toBe(405) },
  { name: 'route: GET an unknown route → 404', request: (s) => ({ method: 'GET', path: `/${s.service}/process/video` }), check: (r) => expectDetail(r, 404) },
  { name: 'route: POST an unknown route → 404', request: (s) => ({ path: `/${s.service}/process/video`, ...json({ $image: fx.b64 }) }), check: (r) => expectDetail(r, 404) },
  { name: 'route: POST below process/sample → 404', request: (s) => ({ path: `/${s.service}/process/sample/extra`, ...json({ $image: fx.b64 }) }), check: (r) => expectDetail(r, 404) },
  { name: 'route: query string and trailing slash are ignored', request: (s) => ({ ...sample(s, { $image: fx.b64 }), path: `/${s.service}/process/sample/?debug=1` }), check: expectReference },
  // ---- the matcher's templates ----
  {
    name: 'matcher: garbage templates → 400',
    applies: isMatcher,
    request: (s) => sample(s, withRole([{ class: 'face', $template: 'AAAA' }, { class: 'face', $template: 'AAAA' }])),
    check: (r) => expectDetail(r, 400, /^Invalid face template/),
  },
  {
    name: 'matcher: a template that is not base64 → 400',
    applies: withTemplates,
    request: (s) => sample(s, withRole([{ class: 'face', $template: fx.templates![0] }, { class: 'face', $template: '¿template?' }])),
    check: (r) => expectDetail(r, 400, /^Invalid face template.*not base64/),
  },
  {
    name: 'matcher: a truncated template → 400',
    applies: withTemplates,
    request: (s) => sample(s, withRole([{ class: 'face', $template: fx.templates![0] }, { class: 'face', $template: fx.templates![1].slice(0, 200) }])),
    check: (r) => expectDetail(r, 400, /^Invalid face template/),
  },
  {
    name: 'matcher: a foreign template (another method tag) → 400',
    applies: withTemplates,
    request: (s) => {
      const raw = Buffer.from(fx.templates![1], 'base64');
      const tagLength = raw[5];
      const foreign = Buffer.concat([raw.subarray(0, 6), Buffer.from('x'.repeat(tagLength)), raw.subarray(6 + tagLength)]);
      return sample(s, withRole([{ class: 'face', $template: fx.templates![0] }, { class: 'face', $template: foreign.toString('base64') }]));
    },
    check: (r) => expectDetail(r, 400, /different recognizer methods/),
  },
  {
    name: 'matcher: a template of NaNs → 400',
    applies: withTemplates,
    request: (s) => {
      const raw = Buffer.from(fx.templates![1], 'base64');
      const nan = Buffer.from(raw);
      for (let o = 8 + raw[5]; o + 4 <= nan.length; o += 4) nan.writeFloatLE(Number.NaN, o);
      return sample(s, withRole([{ class: 'face', $template: fx.templates![0] }, { class: 'face', $template: nan.toString('base64') }]));
    },
    check: (r) => expectDetail(r, 400, /^Invalid face template/),
  },
  { name: 'matcher: one template → 400', applies: withTemplates, request: (s) => sample(s, withRole([{ class: 'face', $template: fx.templates![0] }])), check: (r) => expectDetail(r, 400) },
  { name: 'matcher: $template a number → 422', applies: isMatcher, request: (s) => sample(s, withRole([{ class: 'face', $template: 7 }, { class: 'face', $template: 8 }])), check: (r) => expectIssues(r, ['body', 'objects', 0, '$template']) },
  {
    name: 'matcher: the same template twice → distance 0',
    applies: withTemplates,
    request: (s) => sample(s, withRole([{ class: 'face', $template: fx.templates![0] }, { class: 'face', $template: fx.templates![0] }])),
    check: (r) => {
      expect(r.status).toBe(200);
      expect((r.json as { verification: { distance: number } }).verification.distance).toBeCloseTo(0, 5);
    },
  },
];

describe('bad-input matrix, every route of every served service', () => {
  it('serves at least the three face services, and the matrix is big enough', () => {
    expect(services.map((s) => s.service)).toEqual(expect.arrayContaining(['face-detector-face-fitter', 'face-detector-template-extractor', 'verify-matcher']));
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  // Services are known only once the server runs; one test per case, looping over them.
  // Services run side by side (the server takes two at once); each service's case and check in order.
  for (const c of cases) {
    it(c.name, async () => {
      expect(services.length).toBeGreaterThan(0);
      const one = async (s: ServedService) => {
        const r = await send(server.url, c.request(s));
        try {
          c.check(r, s);
        } catch (error) {
          (error as Error).message = `[${s.service}] ${(error as Error).message}`;
          throw error;
        }
        await stillServes(s);
      };
      await Promise.all(services.filter((s) => !c.applies || c.applies(s)).map(one));
    });
  }
});

describe('routes outside the services', () => {
  const cases: [string, RawRequest, number][] = [
    ['GET an unknown service', { method: 'GET', path: '/no-such-service/process/sample' }, 404],
    ['POST an unknown service', { path: '/no-such-service/process/sample', ...json({}) }, 404],
    ['GET /', { method: 'GET', path: '/' }, 404],
    ['POST /', { path: '/', ...json({}) }, 404],
    ['POST /health', { path: '/health', ...json({}) }, 405],
    ['DELETE /openapi.json', { method: 'DELETE', path: '/openapi.json' }, 405],
    ['POST /docs', { path: '/docs', ...json({}) }, 405],
    ['GET /favicon.ico', { method: 'GET', path: '/favicon.ico' }, 404],
  ];
  for (const [name, request, status] of cases) {
    it(`${name} → ${status}`, async () => {
      const r = await send(server.url, request);
      if (request.path === '/favicon.ico') expect(r.status).toBe(404);
      else expectDetail(r, status);
      await stillServes(services[0]);
    });
  }

  it('Expect: 100-continue with an oversized Content-Length: 413 before any body is sent', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /${services[0].service}/process/sample HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BYTES * 4}\r\nExpect: 100-continue\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => socket.destroy(), 3000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toMatch(/100 Continue/);
    expect(answer).toContain(Messages.bodyTooLarge);
  });

  it('a body shorter than its Content-Length, then a hang-up, and a malformed request line', async () => {
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /${services[0].service}/process/sample HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"$image":"`);
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
    const garbage = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GARBAGE \x00\x01 NOT HTTP\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    for (const s of services) await stillServes(s);
  });
});
