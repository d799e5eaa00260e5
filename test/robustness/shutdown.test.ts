/**
 * Graceful shutdown of a server process: on SIGTERM the requests in flight (running and queued) finish
 * with their normal answers, new connections are refused, idle keep-alive connections do not hold the
 * process, and it exits 0 as soon as the work is done; past SHUTDOWN_GRACE_MS it exits 0 anyway.
 */
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../scripts/lib/server-process.js';
import { demoPhoto } from '../support/fixtures.js';
import { json, send, type RawRequest } from './support.js';

const slow = (): RawRequest => ({ path: '/face-detector-template-extractor/process/sample', headers: json({}).headers, body: JSON.stringify({ $image: demoPhoto(1).toString('base64') }) });

/** Resolves with the error code of a fresh TCP connection attempt (or 'connected'). */
function tryConnect(url: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

const exitOf = (child: import('node:child_process').ChildProcess) =>
  new Promise<{ code: number | null; at: number }>((resolve) => {
    if (child.exitCode !== null) resolve({ code: child.exitCode, at: Date.now() });
    else child.once('exit', (code) => resolve({ code, at: Date.now() }));
  });

describe('graceful shutdown', () => {
  it('SIGTERM with requests in flight: they finish with 200, new connections are refused, exit 0', async () => {
    const server = await startServer({ env: { MAX_CONCURRENT_REQUESTS: '2', MAX_QUEUED_REQUESTS: '4', SHUTDOWN_GRACE_MS: '20000' } });
    try {
      const reference = await send(server.url, slow());
      expect(reference.status).toBe(200);
      // An idle keep-alive connection must not keep the process alive.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      expect((await send(server.url, { method: 'GET', path: '/health', agent })).status).toBe(200);

      const inFlight = Array.from({ length: 5 }, () => send(server.url, slow()));
      await new Promise((r) => setTimeout(r, 150)); // all five received: two running, three queued
      const exited = exitOf(server.child);
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      expect(await tryConnect(server.url)).toBe('ECONNREFUSED');

      const replies = await Promise.all(inFlight);
      const lastAnswer = Date.now();
      for (const r of replies) {
        expect(r.status).toBe(200);
        expect(r.json).toEqual(reference.json);
        expect(r.headers.connection).toBe('close');
      }
      const { code, at } = await exited;
      expect(code).toBe(0);
      // Exits once the work is done: not after the grace period, nor after the keep-alive timeout.
      expect(at - lastAnswer).toBeLessThan(2000);
      expect(at - signalled).toBeLessThan(15_000);
      expect(server.output()).toMatch(/SIGTERM: closing; [1-9]\d* request\(s\) in flight/);
      agent.destroy();
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('past SHUTDOWN_GRACE_MS it exits 0 even with work left', async () => {
    const server = await startServer({ env: { MAX_CONCURRENT_REQUESTS: '1', MAX_QUEUED_REQUESTS: '8', SHUTDOWN_GRACE_MS: '300' } });
    try {
      const inFlight = Array.from({ length: 8 }, () => send(server.url, slow()).then((r) => r.status, () => 'cut'));
      await new Promise((r) => setTimeout(r, 150));
      const exited = exitOf(server.child);
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - signalled).toBeLessThan(3000);
      const outcomes = await Promise.all(inFlight);
      // Eight requests of ~150 ms each cannot all fit in 300 ms: the rest are cut, or (module workers
      // stopping in order while the process exits) refused with 503 + Retry-After.
      expect(outcomes.filter((o) => o !== 200).length).toBeGreaterThan(0);
      for (const o of outcomes) expect([200, 503, 'cut']).toContain(o);
      expect(server.output()).toMatch(/shutdown grace of 300 ms passed/);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
