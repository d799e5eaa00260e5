import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Messages } from '../contract/errors.js';
import type { Admission } from './admission.js';
import { bearerAuthorised } from './auth.js';
import type { RuntimeEnv } from './limits.js';

const kWork = Symbol('image-api.work');
type RawRequest = IncomingMessage & { rawBody?: Buffer; body?: unknown; [kWork]?: Promise<unknown> };

/**
 * The handler declares the work a request started. Its admission slot is held until that work settles,
 * even when the client hangs up first: otherwise a client that sends and disconnects at once would
 * start unbounded concurrent work.
 */
export function trackWork(req: object, work: Promise<unknown>): void {
  (req as RawRequest)[kWork] = work;
}

/** Shared with the launcher: once draining (SIGTERM), every answer closes its connection. */
export interface GateState {
  draining: boolean;
}

/**
 * After an early refusal the client is usually still sending its body; closing at once would make it
 * see a reset instead of the answer. So the rest is read and thrown away, for at most this long and
 * this much, like a web server's lingering close.
 */
const LINGER_MS = 5_000;
const LINGER_BYTES = 256 * 1024 * 1024;

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What runs before functions-framework sees a request: authentication, bounded admission (503 when
 * the queue is full), and reading the body under MAX_BODY_SIZE — refused with 413 from Content-Length
 * before any of it is read, or as soon as a chunked body passes the limit. The body is handed on
 * already read, so the framework's parsers (which would accept 1 GB) skip it. Also the
 * `checkContinue` listener: a client sending `Expect: 100-continue` gets its 401/413/503 before it
 * sends the body.
 */
export function gate(app: RequestListener, limits: RuntimeEnv, admission: Admission, state: GateState = { draining: false }): RequestListener {
  const maxBytes = Math.floor(limits.MAX_BODY_SIZE * 1024 * 1024);
  return (req: RawRequest, res) => {
    if (state.draining) res.setHeader('Connection', 'close');
    const expectsContinue = /100-continue/i.test(String(req.headers.expect ?? ''));
    const path = (req.url ?? '/').split('?')[0];
    // Exactly /health and /<service>/health: probes carry no credentials.
    const isHealth = /^(\/[^/]+)?\/health$/.test(path);
    if (!isHealth && !bearerAuthorised(req, limits.API_TOKEN)) {
      return refuse(req, res, expectsContinue, 401, 'Not authenticated', { 'WWW-Authenticate': 'Bearer' });
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) return refuse(req, res, expectsContinue, 413, Messages.bodyTooLarge);

    // GET and friends are cheap and must stay answerable under load (health probes): no admission.
    // A body they carry means nothing; it is read and dropped, never buffered.
    if (BODYLESS.has(req.method ?? 'GET')) return readBody(req, res, maxBytes, expectsContinue, false, () => app(req, res));

    const ticket = admission.enter();
    if (!ticket) return refuse(req, res, expectsContinue, 503, 'Server is overloaded; retry later', { 'Retry-After': '1' });
    // At once, not when admitted: a client that hangs up while queued gives its place back.
    res.once('close', () => {
      const work = req[kWork];
      if (work) void work.then(ticket.release, ticket.release);
      else ticket.release();
    });
    void ticket.admitted.then(() => {
      if (res.writableEnded || res.destroyed) return ticket.release();
      readBody(req, res, maxBytes, expectsContinue, true, () => app(req, res));
    });
  };
}

/** Reads the body (kept only when `keep`) under the size limit, then calls `done` with it on the request. */
function readBody(req: RawRequest, res: ServerResponse, maxBytes: number, expectsContinue: boolean, keep: boolean, done: () => void): void {
  if (expectsContinue) res.writeContinue();
  // With a declared length the body is copied once into its final buffer (concatenating chunks at the
  // end would hold it twice); chunked bodies are collected and joined.
  const declared = Number(req.headers['content-length'] ?? NaN);
  const whole = keep && declared > 0 ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    if (refused) return;
    if (size + chunk.length > maxBytes) {
      refused = true;
      chunks.length = 0;
      refuse(req, res, false, 413, Messages.bodyTooLarge);
      return;
    }
    if (whole) chunk.copy(whole, size);
    else if (keep) chunks.push(chunk);
    size += chunk.length;
  });
  req.on('end', () => {
    if (refused) return;
    const body = whole ? whole.subarray(0, size) : keep ? Buffer.concat(chunks, size) : Buffer.alloc(0);
    chunks.length = 0;
    req.rawBody = body;
    req.body = body;
    done();
  });
}

/**
 * Answers before (the rest of) the body is read. A client waiting for "100 Continue" has sent no body:
 * answer and close. Otherwise the body is on its way: the answer is written at once, then the rest of
 * the body is discarded within the linger bounds, and only then is the response ended (ending it at
 * once would let Node close a `Connection: close` socket under the client's upload: a reset, not a 413).
 */
function refuse(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, status: number, detail: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    req.destroy();
    return;
  }
  const text = JSON.stringify({ detail });
  const close = expectsContinue;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
    ...(close ? { Connection: 'close' } : {}),
  });
  if (close || req.complete) {
    res.end(text);
    return;
  }
  res.write(text);
  let drained = 0;
  const end = () => {
    clearTimeout(timer);
    res.end();
  };
  const cut = () => {
    end();
    req.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) cut();
  });
  req.once('end', end);
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
