/**
 * Privacy: images and templates never reach a log line, an error message or the disk. A server process
 * (the built dist/ code) runs in an empty working directory with empty TMPDIR and HOME, gets valid and
 * invalid requests carrying images and templates, and then: its output holds no fragment of any of them
 * (as base64 or as raw bytes) and no long base64 run at all; no error answer quotes them; the three
 * directories are still empty; and no regular file was ever open for writing (sampled from /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/models/manifest.js';
import { demoPhoto } from '../support/fixtures.js';
import { json, pngBomb, send, servedServices, smallFace, twoFaces, upload, type RawRequest, type Reply } from './support.js';

interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
}

const dirs = { cwd: '', tmp: '', home: '' };
let proc: Proc;
const writable = new Set<string>();
let sampler: NodeJS.Timeout | undefined;

/** Started by hand (not startServer) to choose its working directory. */
async function spawnServer(): Promise<Proc> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    FUNCTION_TARGET: 'image-api',
    MAX_BODY_SIZE: '2',
    TMPDIR: dirs.tmp,
    HOME: dirs.home,
  };
  const child = spawn(process.execPath, [join(projectRoot, 'dist', 'functions', 'main.js')], { cwd: dirs.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const port = /listening on port (\d+)/.exec(out)?.[1];
    if (port && / ready"/.test(out)) return { child, url: `http://127.0.0.1:${port}`, output: () => out };
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start:\n${out}`);
}

/** Regular files the process has open for writing right now (O_WRONLY or O_RDWR), from /proc. */
function openForWriting(pid: number): string[] {
  const found: string[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return found;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!target.startsWith('/') || target.startsWith('/dev/') || target.startsWith('/proc/')) continue;
      const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
      if ((flags & 3) !== 0) found.push(target);
    } catch {
      /* closed meanwhile */
    }
  }
  return found;
}

/** Secrets sent in the requests: every image and template, as base64 and as bytes. */
const secrets: Buffer[] = [];
const replies: { name: string; reply: Reply }[] = [];

beforeAll(async () => {
  dirs.cwd = mkdtempSync(join(tmpdir(), 'privacy-cwd-'));
  dirs.tmp = mkdtempSync(join(tmpdir(), 'privacy-tmp-'));
  dirs.home = mkdtempSync(join(tmpdir(), 'privacy-home-'));
  proc = await spawnServer();
  sampler = setInterval(() => openForWriting(proc.child.pid!).forEach((f) => writable.add(f)), 5);

  const small = await smallFace();
  const photo = await twoFaces();
  const png = await sharp(photo).png().toBuffer();
  secrets.push(small, photo, png);
  const b64 = small.toString('base64');
  const services = await servedServices(proc.url);
  const requests: [string, RawRequest][] = [];
  for (const s of services) {
    requests.push([`${s.service}: valid sample`, { path: `/${s.service}/process/sample`, ...json({ $image: photo.toString('base64') }) }]);
    requests.push([`${s.service}: valid upload`, { path: `/${s.service}/process/image`, ...upload(png, 'face.png') }]);
  }
  const fitter = '/face-detector-face-fitter';
  requests.push(
    ['bad base64 (a base64 image with one bad character)', { path: `${fitter}/process/sample`, ...json({ $image: `${b64.slice(0, 3000)}!${b64.slice(3000)}` }) }],
    ['JSON cut in the middle of the base64', { path: `${fitter}/process/sample`, headers: json({}).headers, body: `{"$image":"${b64.slice(0, 4000)}` }],
    ['JSON broken right after the base64', { path: `${fitter}/process/sample`, headers: json({}).headers, body: `{"$image":"${b64}" "objects": []}` }],
    ['base64 without its quotes (V8 quotes the text around such an error)', { path: `${fitter}/process/sample`, headers: json({}).headers, body: `{"$image": ${b64.slice(0, 5000)}}` }],
    ['$image as a number array', { path: `${fitter}/process/sample`, ...json({ $image: [...small.subarray(0, 200)] }) }],
    ['truncated JPEG', { path: `${fitter}/process/sample`, ...json({ $image: small.subarray(0, small.length >> 1).toString('base64') }) }],
    ['truncated PNG upload', { path: `${fitter}/process/image`, ...upload(png.subarray(0, png.length >> 1)) }],
    ['garbage bytes', { path: `${fitter}/process/sample`, ...json({ $image: demoPhoto(3).subarray(5000, 9000).toString('base64') }) }],
    ['decompression bomb', { path: `${fitter}/process/sample`, ...json({ $image: pngBomb(90_000, 90_000).toString('base64') }) }],
    ['SVG with text (never rendered)', { path: `${fitter}/process/sample`, ...json({ $image: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text y="20">secret</text></svg>').toString('base64') }) }],
    ['objects of the wrong shape next to an image', { path: `${fitter}/process/sample`, ...json({ $image: b64, objects: [{ bbox: [b64.slice(0, 40), 1, 2, 3] }] }) }],
    ['body over the limit', { path: `${fitter}/process/sample`, ...json({ $image: Buffer.concat([demoPhoto(1), demoPhoto(2)]).toString('base64') }) }],
    ['CloudEvent, structured, broken JSON around base64', { path: fitter, headers: { 'content-type': 'application/cloudevents+json' }, body: `{"specversion":"1.0","data":{"$image":"${b64.slice(0, 2000)}` }],
    ['CloudEvent, binary, wrong type with base64 in it', { path: fitter, headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': b64.slice(0, 60), 'ce-source': '/p', 'ce-type': b64.slice(100, 160) }, body: JSON.stringify({ $image: b64 }) }],
    ['CloudEvent, binary, valid', { path: fitter, headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'p1', 'ce-source': '/p', 'ce-type': 'imageapi.face-detector-face-fitter.process' }, body: JSON.stringify({ $image: b64 }) }],
    ['multipart, the image in a text field', { path: `${fitter}/process/image`, ...upload(Buffer.from(b64), 'image.b64') }],
  );
  for (const [name, request] of requests) replies.push({ name, reply: await send(proc.url, request) });

  // Templates are biometric data too: extract two, then send them valid and broken to the matcher.
  const extracted = replies.find((r) => r.name === 'face-detector-template-extractor: valid sample')!.reply.json as { objects: { $template: string }[] };
  const [t1, t2] = extracted.objects.map((o) => o.$template);
  secrets.push(Buffer.from(t1, 'base64'), Buffer.from(t2, 'base64'));
  const matcher = '/verify-matcher/process/sample';
  for (const [name, objects] of [
    ['matcher: valid', [{ class: 'face', $template: t1 }, { class: 'face', $template: t2 }]],
    ['matcher: one template broken', [{ class: 'face', $template: t1 }, { class: 'face', $template: `${t2.slice(0, 100)}#${t2.slice(100)}` }]],
    ['matcher: one template cut', [{ class: 'face', $template: t1 }, { class: 'face', $template: t2.slice(0, 400) }]],
    ['matcher: foreign tag', [{ class: 'face', $template: t1 }, { class: 'face', $template: Buffer.concat([Buffer.from(t2, 'base64').subarray(0, 6), Buffer.from('zz')]).toString('base64') + t2.slice(12) }]],
  ] as const) {
    replies.push({ name, reply: await send(proc.url, { path: matcher, ...json({ objects }) }) });
  }
  await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  clearInterval(sampler);
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  for (const d of Object.values(dirs)) if (d) rmSync(d, { recursive: true, force: true });
});

/** Fragments to look for: 16 characters of base64 (aligned, so as the client sent it) or 12 raw bytes, at 40 places in each secret. */
function fragments(secret: Buffer): { b64: string[]; raw: string[] } {
  const text = secret.toString('base64');
  const b64: string[] = [];
  const raw: string[] = [];
  for (let i = 0; i < 40; i++) {
    const at = Math.floor(((i + 0.5) / 40) * (text.length - 16)) & ~3;
    b64.push(text.slice(at, at + 16));
    const byte = Math.floor(((i + 0.5) / 40) * (secret.length - 12));
    raw.push(secret.subarray(byte, byte + 12).toString('latin1'));
  }
  return { b64, raw };
}

describe('privacy: nothing of an image or a template is kept or shown', () => {
  it('the request set was answered (valid and invalid) and the server is alive', () => {
    expect(replies.length).toBeGreaterThanOrEqual(30);
    expect(replies.filter((r) => r.reply.status === 200).length).toBeGreaterThanOrEqual(8);
    expect(replies.filter((r) => r.reply.status >= 400).length).toBeGreaterThanOrEqual(12);
    expect(replies.every((r) => r.reply.status < 500)).toBe(true);
    expect(proc.child.exitCode).toBeNull();
  });

  it('the log holds no base64 run and no fragment of any image or template', () => {
    const log = proc.output();
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toMatch(/[A-Za-z0-9+/]{40,}/);
    for (const secret of secrets) {
      const { b64, raw } = fragments(secret);
      for (const f of b64) expect(log.includes(f), `base64 fragment ${f} in the log`).toBe(false);
      for (const f of raw) expect(log.includes(f), 'raw image bytes in the log').toBe(false);
    }
    expect(log).not.toContain('\xff\xd8\xff');
    expect(log).not.toContain('\x89PNG');
  });

  it('no error message quotes the request', () => {
    for (const { name, reply } of replies) {
      const isEvent = reply.headers['ce-type'] !== undefined;
      if (reply.status === 200 && !(isEvent && String(reply.headers['ce-type']).endsWith('.error'))) continue;
      expect(reply.text, name).not.toMatch(/[A-Za-z0-9+/]{20,}/);
      for (const secret of secrets) for (const f of fragments(secret).b64) expect(reply.text.includes(f.slice(0, 12)), `${name} quotes ${f}`).toBe(false);
    }
  });

  it('nothing is written to disk: cwd, TMPDIR and HOME stay empty, no file is ever open for writing', () => {
    expect(readdirSync(dirs.cwd)).toEqual([]);
    expect(readdirSync(dirs.tmp)).toEqual([]);
    expect(readdirSync(dirs.home)).toEqual([]);
    expect([...writable]).toEqual([]);
    // The sampler did see the process: its models and stdio were open.
    expect(readdirSync(`/proc/${proc.child.pid}/fd`).length).toBeGreaterThan(3);
  });
});
