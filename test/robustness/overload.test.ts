/**
 * Overload: a bounded queue per process, 503 + Retry-After beyond it, every accepted request answered
 * correctly, memory bounded however many requests arrive, and no admission slot lost to clients that
 * hang up. The server runs as a separate process with MAX_CONCURRENT_REQUESTS=1, MAX_QUEUED_REQUESTS=2.
 * The gate and admission themselves are also checked in-process, where timing can be controlled.
 */
import { createServer, request, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admission, PixelBudget } from '../../shared/http/admission.js';
import { gate, trackWork } from '../../shared/http/gate.js';
import { readRuntimeEnv } from '../../shared/http/limits.js';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { demoPhoto } from '../support/fixtures.js';
import { expectDetail, json, memoryMiB, send, type RawRequest, type Reply } from './support.js';

const SLOW = '/face-detector-template-extractor/process/sample';

let server: ServerProcess;
let slow: RawRequest;
let reference: Reply;

beforeAll(async () => {
  server = await startServer({ env: { MAX_CONCURRENT_REQUESTS: '1', MAX_QUEUED_REQUESTS: '2' } });
  // Three faces in a 1920×1280 photo: a few hundred ms per request, so a flood fills the queue.
  slow = { path: SLOW, headers: json({}).headers, body: Buffer.from(JSON.stringify({ $image: demoPhoto(1).toString('base64') })) };
  reference = await send(server.url, slow);
  expect(reference.status).toBe(200);
  await send(server.url, slow); // warm
});

afterAll(async () => {
  expect(server.child.exitCode).toBeNull();
  expect(server.output()).not.toMatch(/"severity":"ERROR"/);
  await server.stop();
});

/** A request on its own connection that is cut after `ms`; resolves when the cut is done. */
function hangUpAfter(base: string, r: RawRequest, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body ?? '');
    const req = request(new URL(r.path, base), { method: 'POST', agent: false, headers: { ...r.headers, 'content-length': body.length } });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.end(body);
    setTimeout(() => req.destroy(), ms);
  });
}

describe('overload, separate process (1 running, 2 queued)', () => {
  it('a flood of 16: the rest get 503 + Retry-After at once, every accepted one the right answer', async () => {
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const r = await send(server.url, slow);
        return { r, ms: Date.now() - started };
      }),
    );
    const ok = replies.filter(({ r }) => r.status === 200);
    const busy = replies.filter(({ r }) => r.status === 503);
    expect(ok.length + busy.length).toBe(replies.length);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    expect(busy.length).toBeGreaterThanOrEqual(8);
    for (const { r } of ok) expect(r.json).toEqual(reference.json);
    for (const { r } of busy) {
      expectDetail(r, 503, /overloaded/);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Refused at once, not after waiting for a slot.
    const fastest200 = Math.min(...ok.map(({ ms }) => ms));
    expect(Math.min(...busy.map(({ ms }) => ms))).toBeLessThan(fastest200);
    expect((await send(server.url, slow)).json).toEqual(reference.json);
  });

  it('200 clients at once, 1.5 MB each: memory stays bounded and the server keeps answering', async () => {
    const before = memoryMiB(server.child.pid!);
    const statuses = await Promise.all(Array.from({ length: 200 }, () => send(server.url, slow).then((r) => r.status)));
    const after = memoryMiB(server.child.pid!);
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    // 300 MB arrived; what was refused was read and dropped, never kept: the peak barely moves.
    expect(after.peak - before.peak).toBeLessThan(100);
    expect((await send(server.url, slow)).json).toEqual(reference.json);
  });

  it('clients that hang up while queued give their place back (no slot is lost)', async () => {
    for (let round = 0; round < 3; round++) {
      const running = send(server.url, slow);
      await new Promise((r) => setTimeout(r, 30));
      await Promise.all([hangUpAfter(server.url, slow, 40), hangUpAfter(server.url, slow, 60)]);
      expect((await running).status).toBe(200);
    }
    // Had a slot leaked, with one slot in all this would wait forever.
    const r = await send(server.url, { ...slow, timeoutMs: 5000 });
    expect(r.json).toEqual(reference.json);
    // And the queue still holds two: three at once are all answered.
    const three = await Promise.all([send(server.url, slow), send(server.url, slow), send(server.url, slow)]);
    expect(three.map((x) => x.status)).toEqual([200, 200, 200]);
  });
});

describe('gate and admission, in-process', () => {
  let http: Server;
  let base = '';
  let admission: Admission;
  const work = { running: 0, peak: 0, done: 0 };

  beforeAll(async () => {
    admission = new Admission(1, 1);
    // Each request "works" 150 ms after its body is read, and declares that work to the gate.
    const app: RequestListener = (req, res) => {
      work.running++;
      work.peak = Math.max(work.peak, work.running);
      const job = new Promise<void>((resolve) =>
        setTimeout(() => {
          work.running--;
          work.done++;
          if (!res.destroyed) res.end('{"ok":true}');
          resolve();
        }, 150),
      );
      trackWork(req, job);
    };
    http = createServer(gate(app, readRuntimeEnv({ MAX_BODY_SIZE: '1' }), admission));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => http.close(() => r())));

  it('a client that hangs up mid-work keeps its slot until the work ends: never two at once', async () => {
    const r: RawRequest = { path: '/x', body: '{}' };
    await hangUpAfter(base, r, 30); // admitted, working, then gone
    const next = send(base, r); // must wait for the first job, not run beside it
    expect((await next).status).toBe(200);
    expect(work.peak).toBe(1);
    expect(work.done).toBe(2);
    work.done = 0;
    expect(admission.inFlight).toBe(0);
  });

  it('a client that hangs up while queued gives its place back at once', async () => {
    const first = send(base, { path: '/x', body: '{}' });
    await new Promise((r) => setTimeout(r, 20));
    await hangUpAfter(base, { path: '/x', body: '{}' }, 30); // queued behind the first, then gone
    expect(admission.inFlight).toBe(1);
    expect((await first).status).toBe(200);
    // With the place still held, the one slot would never come free.
    expect((await send(base, { path: '/x', body: '{}', timeoutMs: 2000 })).status).toBe(200);
    expect(admission.inFlight).toBe(0);
  });

  it('queue full: 503 while the body is still arriving, and the client reads it (no reset)', async () => {
    const pause = () => new Promise((r) => setTimeout(r, 20));
    const first = send(base, { path: '/x', body: '{}' });
    await pause();
    const second = send(base, { path: '/x', body: '{}' });
    await pause();
    const big = await send(base, { path: '/x', body: Buffer.alloc(900_000, 0x20) });
    expectDetail(big, 503);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(admission.inFlight).toBe(0);
  });

  it('Admission: FIFO, bounded, a queued ticket can leave', async () => {
    const a = new Admission(1, 2);
    const order: string[] = [];
    const t1 = a.enter()!;
    const t2 = a.enter()!;
    const t3 = a.enter()!;
    expect(a.enter()).toBeNull();
    void t2.admitted.then(() => order.push('t2'));
    void t3.admitted.then(() => order.push('t3'));
    t2.release(); // leaves the queue before its turn
    expect(a.inFlight).toBe(2);
    t1.release();
    await t3.admitted;
    expect(order).toEqual(['t3']);
    t3.release();
    t3.release(); // idempotent
    expect(a.inFlight).toBe(0);
    expect(a.enter()).not.toBeNull();
  });

  it('PixelBudget: large images one after another, small ones side by side, first come first served', async () => {
    const b = new PixelBudget(100);
    const order: string[] = [];
    const big1 = await b.take(80);
    const big2 = b.take(80).then((release) => (order.push('big2'), release));
    const small = b.take(10).then((release) => (order.push('small'), release));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]); // small waits behind big2, though it would fit
    big1();
    (await big2)();
    (await small)();
    expect(order).toEqual(['big2', 'small']);
    const [x, y] = await Promise.all([b.take(40), b.take(40)]);
    x();
    y();
  });
});
