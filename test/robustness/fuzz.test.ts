/**
 * A seeded fuzzer (deterministic: the same cases on every run) against a server process over loopback
 * keep-alive: real JPEG/PNG/GIF/WebP files mutated (bit flips, overwritten bytes, truncation, duplicated
 * and deleted chunks, header fields rewritten with and without a valid CRC, splices) sent as base64 and
 * as uploads, and JSON bodies mutated (type swaps, deletions, huge/negative/fractional numbers, deep
 * nesting, long strings, text-level corruption), also as CloudEvents. No answer may be a 5xx, every
 * answer has the contract's shape, the process must not crash, and it answers normally afterwards.
 *
 * A failing case prints its index; `FUZZ_SEED` and `FUZZ_CASES` reproduce or widen a run.
 */
import { seededRng } from '../../shared/seeded-random.js';
import { Agent } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { demoPhoto } from '../support/fixtures.js';
import { crc32, json, multipart, send, servedServices, smallFace, type RawRequest, type Reply, type ServedService } from './support.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const CASES = Number(process.env.FUZZ_CASES ?? 2400);
const PARALLEL = 6;

/** Seeded randomness to drive mutations (shared/seeded-random.ts). */
function prng(seed: number) {
  const next = seededRng(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)], chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

// ---- image mutations ----


const isPng = (b: Buffer) => b.length > 33 && b.readUInt32BE(0) === 0x89504e47;
const isJpeg = (b: Buffer) => b.length > 4 && b[0] === 0xff && b[1] === 0xd8;
const EDGE_DIMENSIONS = [0, 1, 2, 255, 256, 4097, 30_000, 65_535, 65_536, 0x7fffffff, 0xffffffff];

/** Rewrites a header field: PNG IHDR (dimensions, depth, colour type; CRC fixed or not), JPEG SOF or a segment length. */
function mutateHeader(b: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(b);
  if (isPng(out)) {
    const field = rng.int(4);
    if (field === 0) out.writeUInt32BE(rng.pick(EDGE_DIMENSIONS) >>> 0, 16);
    else if (field === 1) out.writeUInt32BE(rng.pick(EDGE_DIMENSIONS) >>> 0, 20);
    else if (field === 2) out[24] = rng.pick([0, 1, 2, 3, 4, 7, 8, 16, 255]);
    else out[25] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 255]);
    if (rng.chance(0.7)) out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
    return out;
  }
  if (isJpeg(out)) {
    for (let i = 2; i + 9 < out.length; ) {
      if (out[i] !== 0xff) break;
      const marker = out[i + 1];
      const len = out.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        const field = rng.int(4);
        if (field === 0) out.writeUInt16BE(rng.pick(EDGE_DIMENSIONS) & 0xffff, i + 5);
        else if (field === 1) out.writeUInt16BE(rng.pick(EDGE_DIMENSIONS) & 0xffff, i + 7);
        else if (field === 2) out[i + 9] = rng.pick([0, 1, 2, 3, 4, 5, 255]); // components
        else out[i + 4] = rng.pick([0, 1, 8, 12, 16, 255]); // precision
        return out;
      }
      if (rng.chance(0.15)) {
        out.writeUInt16BE(rng.pick([0, 1, 2, 0xffff, len + 1, len - 1]) & 0xffff, i + 2);
        return out;
      }
      i += 2 + len;
    }
  }
  return bitFlips(out, rng);
}

function bitFlips(b: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(b);
  for (let n = 1 + rng.int(32); n > 0; n--) {
    // Mostly in the first KB, where headers and tables live.
    const at = rng.chance(0.6) ? rng.int(Math.min(1024, out.length)) : rng.int(out.length);
    out[at] ^= 1 << rng.int(8);
  }
  return out;
}

const mutators: ((b: Buffer, rng: Rng, other: Buffer) => Buffer)[] = [
  bitFlips,
  (b, rng) => {
    const out = Buffer.from(b);
    for (let n = 1 + rng.int(16); n > 0; n--) out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, rng.int(256)]);
    return out;
  },
  (b, rng) => b.subarray(0, rng.int(b.length)),
  (b, rng) => {
    const a = rng.int(b.length);
    const chunk = b.subarray(a, a + 1 + rng.int(Math.min(4096, b.length - a)));
    const at = rng.int(b.length);
    return Buffer.concat([b.subarray(0, at), chunk, rng.chance(0.3) ? chunk : Buffer.alloc(0), b.subarray(at)]);
  },
  (b, rng) => {
    const a = rng.int(b.length);
    return Buffer.concat([b.subarray(0, a), b.subarray(Math.min(b.length, a + 1 + rng.int(2048)))]);
  },
  mutateHeader,
  mutateHeader,
  (b, rng, other) => Buffer.concat([b.subarray(0, rng.int(b.length)), other.subarray(rng.int(other.length))]),
  (b, rng) => Buffer.concat([b, Buffer.from(Array.from({ length: rng.int(2048) }, () => rng.int(256)))]),
];

function mutateImage(seeds: Buffer[], rng: Rng): Buffer {
  let b = rng.pick(seeds);
  for (let n = 1 + rng.int(3); n > 0; n--) b = rng.pick(mutators)(b, rng, rng.pick(seeds));
  return b;
}

// ---- JSON mutations ----

type J = null | boolean | number | string | J[] | { [k: string]: J };
const isContainer = (v: J): v is J[] | { [k: string]: J } => v !== null && typeof v === 'object';

function randomValue(rng: Rng, image: string): J {
  switch (rng.int(12)) {
    case 0: return rng.pick([0, -1, 1, -0.5, 0.5, 1.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 31), 4294967296, 1e-320]);
    case 1: return rng.pick(['', 'x', 'face', 'body', 'FEMALE', '\u0000', '\ud800', '😀', '<svg/>', '../../etc/passwd']);
    case 2: return 'A'.repeat(rng.pick([1, 3, 5, 1000, 100_000]));
    case 3: return image.slice(0, rng.int(image.length));
    case 4: return rng.chance(0.5);
    case 5: return null;
    case 6: return [];
    case 7: return {};
    case 8: return Array.from({ length: rng.int(6) }, () => rng.next());
    case 9: return { class: 'face', bbox: [rng.next(), rng.next(), rng.next(), rng.next()] };
    case 10: return Array.from({ length: rng.pick([4, 63, 1000]) }, () => rng.next() * 2000 - 500);
    default: return image;
  }
}

/** Every container and the key or index of each of its children. */
function slots(root: J): [J[] | { [k: string]: J }, string | number][] {
  const out: [J[] | { [k: string]: J }, string | number][] = [];
  const stack: J[] = [root];
  while (stack.length) {
    const v = stack.pop()!;
    if (!isContainer(v)) continue;
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
      out.push([v, k]);
      stack.push((v as Record<string | number, J>)[k]);
    }
  }
  return out;
}

function mutateJson(doc: J, rng: Rng, image: string): J {
  const root = structuredClone(doc);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const all = slots(root);
    if (all.length === 0) break;
    const [parent, key] = rng.pick(all);
    const slot = parent as Record<string | number, J>;
    switch (rng.int(6)) {
      case 0:
      case 1:
        slot[key] = randomValue(rng, image); // type swap
        break;
      case 2:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete slot[key];
        break;
      case 3: {
        let v = slot[key];
        for (let d = rng.pick([1, 5, 31, 40, 200]); d > 0; d--) v = [v];
        slot[key] = v; // nesting
        break;
      }
      case 4:
        if (Array.isArray(parent)) for (let i = rng.pick([1, 10, 1000]); i > 0; i--) parent.push(structuredClone(parent[Number(key)]));
        else slot[`${key}_${rng.int(1000)}`] = structuredClone(slot[key]);
        break;
      default:
        if (Array.isArray(slot[key])) slot[key] = Object.fromEntries((slot[key] as J[]).map((v, i) => [String(i), v]));
        else slot[key] = [slot[key]];
    }
  }
  return root;
}

function corruptText(text: string, rng: Rng): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(5)) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + rng.pick(['"', '{', ']', ',', '\\', '\u0000', 'NaN', '-', 'e9999']) + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + 1 + rng.int(20));
    case 3: return text.replace('"objects"', '"objects":[],"objects"');
    default: return `${text}${text.slice(0, rng.int(50))}`;
  }
}

// ---- the run ----

let server: ServerProcess;
let services: ServedService[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });

beforeAll(async () => {
  // Small pixel limit: rewritten dimensions are refused before decoding; a deep queue: no 503 by design.
  server = await startServer({ env: { MAX_IMAGE_PIXELS: '2000000', MAX_INPUT_PIXELS: '2000000', MAX_QUEUED_REQUESTS: '64', MAX_BODY_SIZE: '4' } });
  services = await servedServices(server.url);
});

afterAll(async () => {
  agent.destroy();
  await server.stop();
});

interface Generated {
  kind: string;
  request: RawRequest;
}

async function seedImages(): Promise<Buffer[]> {
  const face = await smallFace();
  const group = await sharp(demoPhoto(4)).resize(240).toBuffer();
  return [
    face,
    await sharp(face).png().toBuffer(),
    await sharp(face).ensureAlpha(0.5).png({ palette: true }).toBuffer(),
    await sharp(face).resize(64).gif().toBuffer(),
    await sharp(face).webp({ quality: 60 }).toBuffer(),
    await sharp(face).jpeg({ progressive: true, quality: 70 }).toBuffer(),
    await sharp(group).jpeg({ quality: 60 }).toBuffer(),
    await sharp(face).toColourspace('rgb16').png().toBuffer(),
  ];
}

function generate(i: number, rng: Rng, seeds: Buffer[], image: string, template: string): Generated {
  const s = rng.pick(services);
  const base = `/${s.service}`;
  const kind = rng.pick(['image-sample', 'image-sample', 'image-upload', 'json', 'json', 'json', 'event'] as const);
  if (kind === 'image-sample') return { kind, request: { path: `${base}/process/sample`, ...json({ $image: mutateImage(seeds, rng).toString('base64') }) } };
  if (kind === 'image-upload') return { kind, request: { path: `${base}/process/image`, ...multipart([{ name: 'image', filename: `f${i}`, data: mutateImage(seeds, rng) }]) } };
  const doc: J =
    s.module === 'verify-matcher' && rng.chance(0.6)
      ? { objects: [{ id: 0, class: 'face', $template: template }, { id: 1, class: 'face', $template: template }] }
      : { $image: image, objects: [{ id: 3, class: 'face', bbox: [0.1, 0.1, 0.6, 0.7], confidence: 0.9 }, { class: 'body', bbox: [0, 0, 1, 1] }], client: { note: 'kept' } };
  let text = JSON.stringify(mutateJson(doc, rng, image));
  if (rng.chance(0.25)) text = corruptText(text, rng);
  if (kind === 'event') {
    return {
      kind,
      request: {
        path: base,
        headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': `fuzz-${i}`, 'ce-source': '/fuzz', 'ce-type': rng.chance(0.9) ? `imageapi.${s.service}.process` : 'x' },
        body: text,
      },
    };
  }
  return { kind, request: { path: `${base}/process/sample`, headers: json({}).headers, body: text } };
}

/** The contract's shape for whatever came back; returns a problem or null. */
function problem(r: Reply): string | null {
  if (r.status >= 500) return `status ${r.status}`;
  if (![200, 400, 413, 415, 422].includes(r.status)) return `unexpected status ${r.status}`;
  const body = r.json as { detail?: unknown; objects?: unknown } | undefined;
  if (body === undefined || body === null || typeof body !== 'object') return 'body is not JSON';
  const isErrorEvent = String(r.headers['ce-type'] ?? '').endsWith('.error');
  if (r.status === 200 && !isErrorEvent) return Array.isArray(body.objects) ? null : 'a 200 without objects';
  const detail = body.detail;
  if (r.status === 422 || (isErrorEvent && Array.isArray(detail))) {
    if (!Array.isArray(detail) || detail.length === 0) return '422 without issues';
    const bad = (detail as Record<string, unknown>[]).find((d) => !Array.isArray(d.loc) || d.loc[0] !== 'body' || typeof d.msg !== 'string' || typeof d.type !== 'string');
    return bad ? `malformed issue ${JSON.stringify(bad).slice(0, 200)}` : null;
  }
  return typeof detail === 'string' ? null : `error without a string detail: ${r.text.slice(0, 200)}`;
}

describe('fuzzing, seeded', () => {
  it(`${CASES} mutated images and JSON bodies: no 5xx, the contract's shapes, no crash`, async () => {
    const seeds = await seedImages();
    const image = seeds[0].toString('base64');
    const extractor = services.find((s) => s.module === 'face-detector-template-extractor');
    let template = 'AAAA';
    if (extractor) {
      const r = await send(server.url, { path: `/${extractor.service}/process/sample`, ...json({ $image: image }) });
      template = (r.json as { objects: { $template: string }[] }).objects[0].$template;
    }
    const normal = { path: `/${services[0].service}/process/sample`, ...json({ $image: image }) };
    const before = await send(server.url, normal);
    expect(before.status).toBe(200);

    const rng = prng(SEED);
    const generated = Array.from({ length: CASES }, (_, i) => generate(i, rng, seeds, image, template));
    const tally = new Map<string, number>();
    const failures: string[] = [];
    let nextCase = 0;
    const started = Date.now();
    const worker = async () => {
      while (nextCase < generated.length) {
        const i = nextCase++;
        const { kind, request } = generated[i];
        let r: Reply;
        try {
          r = await send(server.url, { ...request, agent, timeoutMs: 15_000 });
        } catch (error) {
          failures.push(`case ${i} (${kind} ${request.path}): no answer: ${(error as Error).message}`);
          continue;
        }
        const key = `${kind} ${r.status}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        const p = problem(r);
        if (p) failures.push(`case ${i} (${kind} ${request.path}): ${p}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: seed ${SEED}, ${CASES} cases in ${seconds.toFixed(1)} s:`, Object.fromEntries([...tally].sort()));

    expect(failures.slice(0, 20)).toEqual([]);
    expect(server.child.exitCode).toBeNull();
    // The mix is what it claims: many images decoded and answered, many refused, several JSON outcomes.
    expect(tally.get('image-sample 200') ?? 0).toBeGreaterThan(50);
    expect(tally.get('image-sample 400') ?? 0).toBeGreaterThan(200);
    expect(tally.get('json 422') ?? 0).toBeGreaterThan(100);
    expect((await send(server.url, { method: 'GET', path: '/health' })).status).toBe(200);
    expect((await send(server.url, normal)).json).toEqual(before.json);
    expect(server.output()).not.toMatch(/"severity":"ERROR"/);
  });
});
