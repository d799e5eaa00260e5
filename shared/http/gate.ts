import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Messages } from '../contract/errors.js';
import type { Admission } from './admission.js';
import { bearerAuthorised } from './auth.js';
import type { RuntimeEnv } from './limits.js';

type RawRequest = IncomingMessage & { rawBody?: Buffer; body?: unknown };

function reply(res: ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ detail }));
}

/**
 * What runs before functions-framework sees a request: authentication, bounded admission (503 when
 * the queue is full), and reading the body under MAX_BODY_SIZE — refused with 413 from Content-Length
 * before any of it is read, or as soon as a chunked body passes the limit. The body is handed on
 * already read, so the framework's parsers (which would accept 1 GB) skip it.
 */
export function gate(app: RequestListener, limits: RuntimeEnv, admission: Admission): RequestListener {
  const maxBytes = Math.floor(limits.MAX_BODY_SIZE * 1024 * 1024);
  return (req: RawRequest, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isHealth = path === '/health' || path.endsWith('/health');
    if (!isHealth && !bearerAuthorised(req, limits.API_TOKEN)) {
      req.resume();
      return reply(res, 401, 'Not authenticated', { 'WWW-Authenticate': 'Bearer' });
    }
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return app(req, res);

    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      // Answer without reading; close so the client stops sending.
      reply(res, 413, Messages.bodyTooLarge, { Connection: 'close' });
      res.on('finish', () => req.destroy());
      return;
    }
    const entered = admission.enter();
    if (!entered) {
      reply(res, 503, 'Server is overloaded; retry later', { 'Retry-After': '1', Connection: 'close' });
      res.on('finish', () => req.destroy());
      return;
    }
    void entered.then((release) => {
      res.on('close', release);
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        if (refused) return;
        size += chunk.length;
        if (size > maxBytes) {
          refused = true;
          chunks.length = 0;
          reply(res, 413, Messages.bodyTooLarge, { Connection: 'close' });
          res.on('finish', () => req.destroy());
          return;
        }
        chunks.push(chunk);
      });
      req.on('error', () => release());
      req.on('end', () => {
        if (refused) return;
        const body = Buffer.concat(chunks, size);
        req.rawBody = body;
        req.body = body;
        app(req, res);
      });
    });
  };
}
