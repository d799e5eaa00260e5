import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { expect } from 'vitest';
import { demoPhoto } from '../support/fixtures.js';

/** Everything a robustness test needs to know about a reply, read with node:http (no client-side rewriting). */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  agent?: Agent | false;
  timeoutMs?: number;
}

/** One HTTP request exactly as given: no default content type, no automatic body encoding. */
export function send(base: string, r: RawRequest): Promise<Reply> {
  const url = new URL(r.path, base);
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | number> = { ...(r.headers ?? {}) };
  if (body && !Object.keys(headers).some((k) => k.toLowerCase() === 'transfer-encoding')) headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: r.method ?? 'POST', headers, agent: r.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(r.timeoutMs ?? 20_000, () => req.destroy(new Error(`no answer to ${r.method ?? 'POST'} ${r.path} within ${r.timeoutMs ?? 20_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const json = (value: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

/** `multipart/form-data` by hand, so that malformed variants can be built too. */
export function multipart(parts: { name: string; filename?: string; type?: string; data: Buffer | string }[], boundary = 'robustness-boundary-7d3f'): { headers: Record<string, string>; body: Buffer } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename !== undefined ? `; filename="${p.filename}"` : '';
    const type = p.type ? `\r\nContent-Type: ${p.type}` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}${type}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(chunks) };
}

export const upload = (data: Buffer, filename = 'image.jpg') => multipart([{ name: 'image', filename, type: 'application/octet-stream', data }]);

// ---- the contract's error bodies ----

export type Issue = { loc: (string | number)[]; msg: string; type: string };

/** 400/401/404/405/413/415/503: `{"detail": "<message>"}` and nothing else. */
export function expectDetail(r: Reply, status: number, message?: string | RegExp): void {
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status });
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const body = r.json as { detail: unknown };
  expect(Object.keys(body)).toEqual(['detail']);
  expect(typeof body.detail).toBe('string');
  if (message instanceof RegExp) expect(body.detail).toMatch(message);
  else if (message !== undefined) expect(body.detail).toBe(message);
}

/** 422: `{"detail": [{loc, msg, type}]}` with `loc` rooted at "body"; `loc` of the first issue checked when given. */
export function expectIssues(r: Reply, loc?: (string | number)[], type?: string): Issue[] {
  expect({ status: r.status, text: r.text.slice(0, 300) }).toMatchObject({ status: 422 });
  const body = r.json as { detail: Issue[] };
  expect(Object.keys(body)).toEqual(['detail']);
  expect(Array.isArray(body.detail)).toBe(true);
  expect(body.detail.length).toBeGreaterThan(0);
  for (const issue of body.detail) {
    expect(Object.keys(issue).sort()).toEqual(['loc', 'msg', 'type']);
    expect(issue.loc[0]).toBe('body');
    expect(typeof issue.msg).toBe('string');
    expect(typeof issue.type).toBe('string');
  }
  if (loc) expect(body.detail.map((d) => d.loc)).toContainEqual(loc);
  if (type) expect(body.detail.map((d) => d.type)).toContain(type);
  return body.detail;
}

// ---- images ----

/** 600×320 JPEG with two faces (cut from sample1 and scaled): a normal request for every service, the matcher included. */
export function twoFaces(): Promise<Buffer> {
  return sharp(demoPhoto(1)).extract({ left: 350, top: 300, width: 750, height: 400 }).resize(600, 320).jpeg({ quality: 90 }).toBuffer();
}

/** 160×160 JPEG around one face of sample2: small, fast to process, still detected. */
export function smallFace(): Promise<Buffer> {
  return sharp(demoPhoto(2)).extract({ left: 1395, top: 97, width: 300, height: 300 }).resize(160, 160).jpeg({ quality: 85 }).toBuffer();
}

/** PNG chunk checksum (CRC-32, IEEE). */
export function crc32(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([len, typed, crc]);
}

/**
 * A decompression bomb: a valid PNG header for `width`×`height` 8-bit grey pixels and a zlib stream of
 * `rows` zero rows, a few hundred bytes in all. A decoder that trusted it would allocate width×height bytes.
 */
export function pngBomb(width: number, height: number, rows = 64): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const idat = deflateSync(Buffer.alloc(Math.min(rows, height) * (width + 1)), { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A real JPEG whose SOF header is rewritten to claim `width`×`height` (the scan data stays small). */
export function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1];
    const len = out.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker');
}

/** 24-bit bottom-up BMP by hand (sharp cannot write BMP). */
export function bmp24(width: number, height: number, rgb: Buffer): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const o = 54 + (height - 1 - y) * stride + x * 3;
      buf[o] = rgb[s + 2];
      buf[o + 1] = rgb[s + 1];
      buf[o + 2] = rgb[s];
    }
  }
  return buf;
}

/** Two frames (the photo, then its negative) as an animated GIF or WebP. */
export async function animated(photo: Buffer, format: 'gif' | 'webp'): Promise<Buffer> {
  const { data, info } = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
  const negative = await sharp(photo).negate().raw().toBuffer();
  const frames = sharp(Buffer.concat([data, negative]), { raw: { width: info.width, height: info.height * 2, channels: 3, pageHeight: info.height } });
  return format === 'gif' ? frames.gif().toBuffer() : frames.webp({ quality: 80 }).toBuffer();
}

// ---- processes ----

/** Resident and peak memory of a process, MiB, from /proc (Linux). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The services a running all-in-one server serves, with their module and whether process/sample requires `$image`. */
export interface ServedService {
  service: string;
  module: string;
  imageRequired: boolean;
}

export async function servedServices(base: string, headers: Record<string, string> = {}): Promise<ServedService[]> {
  const doc = (await send(base, { method: 'GET', path: '/openapi.json', headers })).json as {
    paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } } }>;
  };
  const health = (await send(base, { method: 'GET', path: '/health' })).json as { services: Record<string, { module: string }> };
  const names = [...new Set(Object.keys(doc.paths).map((p) => p.split('/')[1]))];
  return names.map((service) => ({
    service,
    module: health.services[service].module,
    imageRequired: doc.paths[`/${service}/process/sample`].post?.requestBody?.content['application/json'].schema.required?.includes('$image') ?? false,
  }));
}
