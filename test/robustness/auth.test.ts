/**
 * Optional bearer auth (API_TOKEN): every route but /health needs `Authorization: Bearer <token>`,
 * CloudEvents included (see docs/limits.md for why events get no exception). Checked on a server
 * process, plus the comparison itself.
 */
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerAuthorised } from '../../shared/http/auth.js';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { expectDetail, json, send, servedServices, smallFace, upload, type RawRequest } from './support.js';

const TOKEN = 'k9Xq-robustness-token-4fd1';
let server: ServerProcess;
let image = '';

beforeAll(async () => {
  [server, image] = await Promise.all([startServer({ env: { API_TOKEN: TOKEN } }), smallFace().then((b) => b.toString('base64'))]);
});

afterAll(async () => {
  await server.stop();
});

const FITTER = '/face-detector-face-fitter';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every kind of route, with a valid request body where it takes one (built when the test runs). */
const routes: [string, () => RawRequest][] = [
  ['process/sample', () => ({ path: `${FITTER}/process/sample`, ...json({ $image: image }) })],
  ['process/image', () => ({ path: `${FITTER}/process/image`, ...upload(Buffer.from(image, 'base64')) })],
  [
    'the CloudEvent root',
    () => ({
      path: FITTER,
      headers: { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-source': '/t', 'ce-type': 'imageapi.face-detector-face-fitter.process' },
      body: JSON.stringify({ $image: image }),
    }),
  ],
  ['/openapi.json', () => ({ method: 'GET', path: '/openapi.json' })],
  ['/docs', () => ({ method: 'GET', path: '/docs' })],
  ['an unknown route', () => ({ method: 'GET', path: `${FITTER}/nowhere` })],
];

const withHeaders = (r: RawRequest, headers: Record<string, string>): RawRequest => ({ ...r, headers: { ...(r.headers ?? {}), ...headers } });

describe('API_TOKEN on a server process', () => {
  for (const [name, build] of routes) {
    it(`${name}: no token → 401, wrong token → 401, right token → answered`, async () => {
      const request = build();
      for (const headers of [{}, bearer('wrong'), bearer(`${TOKEN}x`), bearer(TOKEN.slice(0, -1)), { authorization: TOKEN }, { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }]) {
        const r = await send(server.url, withHeaders(request, headers));
        expectDetail(r, 401, 'Not authenticated');
        expect(r.headers['www-authenticate']).toBe('Bearer');
      }
      const ok = await send(server.url, withHeaders(request, bearer(TOKEN)));
      expect(ok.status).toBe(name === 'an unknown route' ? 404 : 200);
      // The scheme is case-insensitive (RFC 9110), surrounding spaces are tolerated.
      expect((await send(server.url, withHeaders(request, { authorization: `bearer   ${TOKEN} ` }))).status).toBe(ok.status);
    });
  }

  it('/health needs no token, top-level and per service', async () => {
    expect((await send(server.url, { method: 'GET', path: '/health' })).status).toBe(200);
    for (const s of await servedServices(server.url, bearer(TOKEN))) {
      expect((await send(server.url, { method: 'GET', path: `/${s.service}/health` })).status).toBe(200);
    }
  });

  it('"health" elsewhere in a path does not open other routes', async () => {
    for (const path of [`${FITTER}/process/sample?x=/health`, `${FITTER}/process/sample%2Fhealth`]) {
      expectDetail(await send(server.url, { path, ...json({ $image: image }) }), 401);
    }
    // Only /health and /<service>/health themselves are open.
    for (const path of [`${FITTER}/process/sample/health`, '/a/b/health', '/healthz', `${FITTER}/healthy`]) {
      expectDetail(await send(server.url, { method: 'GET', path }), 401);
    }
  });

  it('a refused upload is not read: Expect: 100-continue gets 401 instead of 100', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(`POST ${FITTER}/process/sample HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      setTimeout(() => socket.destroy(), 3000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).not.toMatch(/100 Continue/);
  });
});

describe('bearerAuthorised', () => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

  it('no token configured: everything passes', () => {
    expect(bearerAuthorised(req(), undefined)).toBe(true);
    expect(bearerAuthorised(req('Bearer x'), undefined)).toBe(true);
  });

  it('only the exact token passes, whatever the lengths', () => {
    expect(bearerAuthorised(req(`Bearer ${TOKEN}`), TOKEN)).toBe(true);
    for (const bad of [undefined, '', 'Bearer', 'Bearer ', `Bearer ${TOKEN}${TOKEN}`, `Bearer ${TOKEN.toUpperCase()}`, 'Bearer a', `Token ${TOKEN}`, TOKEN]) {
      expect(bearerAuthorised(req(bad), TOKEN)).toBe(false);
    }
    // An empty bearer value must not match anything, not even an empty-looking token.
    expect(bearerAuthorised(req('Bearer '), ' ')).toBe(false);
  });
});
