import { performance } from 'node:perf_hooks';
import type { Request, Response } from '@google-cloud/functions-framework';
import { ApiError, Messages, validationError } from '../contract/errors.js';
import { sampleRequestSchema } from '../contract/requests.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import { isCloudEvent, parseCloudEvent, replyEvent } from '../events/cloudevents.js';
import { decodeBase64 } from '../image/base64.js';
import { decodeImage, inspectImage, type DecodeLimits } from '../image/decode.js';
import type { RgbImage } from '../image/rgb-image.js';
import { requestTimings, type RequestTimings } from '../models/session.js';
import { Modules } from '../modules/catalogue.js';
import { normaliseObjects } from '../modules/objects.js';
import { createModule } from '../modules/registry.js';
import type { EncodedImage, EncodedProcessInput, ModuleRuntime, ProcessInput, ProcessOutput } from '../modules/runtime.js';
import type { ModuleWorkers } from '../workers/module-workers.js';
import { PixelBudget } from './admission.js';
import type { RuntimeEnv } from './limits.js';
import { imageField } from './multipart.js';
import { requestBody } from './request-body.js';

type Json = Record<string, unknown>;

interface RequestContext {
  /** The CloudEvent's id, once known, for the reply. */
  eventId: string;
  /** Gives back the request's share of the pixel budget, held from decode to answer. */
  releasePixels: (() => void) | undefined;
}

/**
 * One service as the HTTP layer sees it: its module (loading in the background from construction on),
 * and the handling of its routes. The same object serves a single function and a mount of the
 * all-in-one server.
 */
export class ServiceEndpoint {
  private runtime: ModuleRuntime | undefined;
  private failure: Error | undefined;
  readonly ready: Promise<void>;
  private readonly schema;

  constructor(
    readonly config: ResolvedServiceConfig,
    private readonly limits: RuntimeEnv,
    /** Shared by every endpoint of the process. */
    private readonly pixels: PixelBudget = new PixelBudget(limits.MAX_IMAGE_PIXELS),
    /** Where the module runs: these worker threads, or (absent) this thread. */
    workers?: ModuleWorkers,
  ) {
    this.schema = sampleRequestSchema({ imageRequired: Modules[config.module].imageRequired, limits: { maxObjects: limits.MAX_OBJECTS } });
    const started = performance.now();
    this.ready = (workers ? workers.host(config) : createModule(config)).then(
      (runtime) => {
        this.runtime = runtime;
        log('info', `${config.service}: module ${config.module} ready in ${Math.round(performance.now() - started)} ms`);
      },
      (error: Error) => {
        this.failure = error;
        log('error', `${config.service}: module ${config.module} failed to load: ${error.message}`);
      },
    );
  }

  get service(): string {
    return this.config.service;
  }

  health(): { status: number; body: Json } {
    const base = { service: this.config.service, module: this.config.module, configs: this.config.configNames };
    if (this.runtime) return { status: 200, body: { status: 'ready', ...base } };
    if (this.failure) return { status: 503, body: { status: 'failed', error: this.failure.message, ...base } };
    return { status: 503, body: { status: 'loading', ...base } };
  }

  private module(): ModuleRuntime {
    if (this.runtime) return this.runtime;
    if (this.failure) throw new ApiError(503, `Service unavailable: ${this.failure.message}`);
    throw new ApiError(503, 'Service is starting: models are loading', { 'Retry-After': '1' });
  }

  /** Routes below the service root; `path` is relative to it ("/process/image", "/", …). */
  async handle(req: Request, res: Response, path: string): Promise<void> {
    const timings: RequestTimings = { decodeMs: 0, inferenceMs: 0 };
    const started = performance.now();
    const method = req.method ?? 'GET';
    const event = method === 'POST' && path === '/' && isCloudEvent(req.headers);
    const ctx: RequestContext = { eventId: '', releasePixels: undefined };
    try {
      if (path === '/process/sample' || path === '/process/image' || path === '/') {
        if (method !== 'POST') throw new ApiError(405, 'Method Not Allowed', { Allow: 'POST' });
        const module = this.module();
        const { request, input, verbatim } = await this.readRequest(req, path, event, ctx, timings, module);
        const output = await withTimeout(
          requestTimings.run(timings, () => ('encoded' in input ? module.processEncoded!(input) : module.process(input))),
          this.limits.REQUEST_TIMEOUT_MS,
        );
        const response = serialise(request, output);
        setTimingHeader(res, timings, started);
        if (event) return sendEvent(res, replyEvent(this.config.service, 'result', response, ctx.eventId));
        sendJson(res, response, verbatim);
        return;
      }
      if (path !== '/health') throw new ApiError(404, 'Not Found');
      if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'Method Not Allowed', { Allow: 'GET' });
      const { status, body: health } = this.health();
      res.status(status).json(health);
    } catch (error) {
      const apiError = redacted(toApiError(error, this.config.service));
      setTimingHeader(res, timings, started);
      if (event && apiError.status < 500) return sendEvent(res, replyEvent(this.config.service, 'error', apiError.body, ctx.eventId || 'unknown'));
      for (const [k, v] of Object.entries(apiError.headers)) res.setHeader(k, v);
      res.status(apiError.status).json(apiError.body);
    } finally {
      ctx.releasePixels?.();
    }
  }

  /**
   * The request and the module's input: the image decoded here, or, for a runtime that decodes it
   * itself (module workers), only inspected and admitted. Apart from handle() so that the raw body is
   * garbage once parsed.
   */
  private async readRequest(
    req: Request,
    path: string,
    event: boolean,
    ctx: RequestContext,
    timings: RequestTimings,
    module: ModuleRuntime,
  ): Promise<{ request: Json; input: ProcessInput | EncodedProcessInput; verbatim: boolean }> {
    const { request, encoded, verbatim } = this.parseRequest(req, path, event, ctx);
    const common = { objects: normaliseObjects(request.objects as Json[] | undefined), route: path === '/process/image' ? ('image' as const) : ('sample' as const) };
    if (encoded && module.processEncoded) return { request, input: { ...common, encoded: await this.inspect(encoded, timings, ctx) }, verbatim };
    return { request, input: { ...common, image: encoded ? await this.decode(encoded, timings, ctx) : undefined }, verbatim };
  }

  /** `verbatim`: `$image` is canonical base64 (or ours), safe to echo into JSON unescaped. */
  private parseRequest(req: Request, path: string, event: boolean, ctx: RequestContext): { request: Json; encoded?: Buffer; verbatim: boolean } {
    const body = takeBody(req);
    // The gate hands the body on as received; a compressed one would only fail later as "not JSON".
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      throw new ApiError(415, `Content-Encoding "${encoding.slice(0, 40)}" is not supported; send the body uncompressed`);
    }
    if (path === '/process/image') {
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('multipart/form-data')) throw new ApiError(415, 'process/image takes multipart/form-data with a file field "image"');
      const encoded = imageField(body, type);
      return { request: { $image: encoded.toString('base64'), objects: [] }, encoded, verbatim: true };
    }
    let request: Json;
    if (path === '/') {
      if (!event) throw new ApiError(400, 'POST / takes a CloudEvent (binary or structured mode); use /process/sample or /process/image for plain requests');
      checkJsonSize(body, this.limits.MAX_OBJECTS);
      const incoming = parseCloudEvent(req.headers, body, this.config.service);
      ctx.eventId = incoming.id;
      request = this.parseSample(incoming.data);
    } else {
      request = this.parseSample(parseJsonBody(req, body, this.limits.MAX_OBJECTS));
    }
    if (typeof request.$image !== 'string') return { request, verbatim: false };
    const { bytes, plain } = decodeBase64(request.$image);
    return { request, encoded: bytes, verbatim: plain };
  }

  private parseSample(data: unknown): Json {
    const parsed = this.schema.safeParse(data);
    if (!parsed.success) throw validationError(parsed.error, data);
    return parsed.data as Json;
  }

  private decodeLimits(ctx: RequestContext): DecodeLimits {
    return {
      maxPixels: this.limits.MAX_IMAGE_PIXELS,
      maxInputPixels: this.limits.MAX_INPUT_PIXELS,
      admit: async (pixels: number) => {
        ctx.releasePixels = await this.pixels.take(pixels);
      },
    };
  }

  private async decode(bytes: Buffer, timings: RequestTimings, ctx: RequestContext): Promise<RgbImage> {
    const t = performance.now();
    try {
      return await decodeImage(bytes, this.decodeLimits(ctx));
    } finally {
      timings.decodeMs += performance.now() - t;
    }
  }

  /** decode()'s checks and admission without the decode, which the runtime does; the pixel budget is held all the same. */
  private async inspect(bytes: Buffer, timings: RequestTimings, ctx: RequestContext): Promise<EncodedImage> {
    const t = performance.now();
    try {
      const { admit, ...limits } = this.decodeLimits(ctx);
      const inspection = await inspectImage(bytes, limits);
      await admit!(inspection.decodedPixels);
      return { bytes, inspection, limits };
    } finally {
      timings.decodeMs += performance.now() - t;
    }
  }
}

/** The body the gate read, detached from the request so that it is not kept alive until the answer is sent. */
function takeBody(req: Request): Buffer {
  const body = requestBody(req);
  const raw = req as { rawBody?: Buffer; body?: unknown };
  raw.rawBody = undefined;
  raw.body = undefined;
  return body;
}

function parseJsonBody(req: Request, body: Buffer, maxObjects: number): unknown {
  const type = String(req.headers['content-type'] ?? 'application/json');
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type) && !type.startsWith('text/plain')) {
    throw new ApiError(415, 'process/sample takes application/json');
  }
  if (body.length === 0) throw new ApiError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  checkJsonSize(body, maxObjects);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError(422, [{ loc: ['body'], msg: redact(`JSON decode error: ${(error as Error).message}`).slice(0, 160), type: 'json_invalid' }]);
  }
}

/** Deeper than any request needs; the response echoes client fields, and JSON.stringify recurses. */
const MAX_JSON_DEPTH = 32;

/**
 * Refuses, before parsing, JSON whose parse would cost far more memory than its size (20 MB of `{},`
 * is ~7 M objects, ~400 MB of heap) or nest deeper than the echo can serialise. Counts containers
 * and commas outside strings; strings (the base64) are skipped with a native search for quotes.
 * The budget leaves room for MAX_OBJECTS fully populated objects (~100 values each).
 */
function checkJsonSize(body: Buffer, maxObjects: number): void {
  const budget = 200 * maxObjects + 10_000;
  let depth = 0;
  let values = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === 0x22) {
      // Skip to the closing quote: one not preceded by an odd run of backslashes.
      let q = i;
      for (;;) {
        q = body.indexOf(0x22, q + 1);
        if (q < 0) return; // unterminated: JSON.parse reports it
        let k = q - 1;
        while (body[k] === 0x5c) k--;
        if ((q - 1 - k) % 2 === 0) break;
      }
      i = q;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw new ApiError(422, [{ loc: ['body'], msg: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, type: 'json_too_deep' }]);
      if (++values > budget) throw tooManyValues(budget);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c) {
      if (++values > budget) throw tooManyValues(budget);
    }
  }
}

const tooManyValues = (budget: number) =>
  new ApiError(422, [{ loc: ['body'], msg: `JSON has more than ${budget} values (200 per allowed object, MAX_OBJECTS)`, type: 'json_too_large' }]);

/**
 * Request content never reaches an answer or a log: V8's JSON errors quote the text around the error
 * (possibly the client's base64), and any long run of base64 letters is a fragment of an image or template.
 */
export function redact(text: string): string {
  return text.replace(/, "[^]*" is not valid JSON/g, ' (not valid JSON)').replace(/[A-Za-z0-9+/=]{20,}/g, '[…]');
}

function redacted(error: ApiError): ApiError {
  if (typeof error.detail !== 'string') return error;
  const detail = redact(error.detail);
  return detail === error.detail ? error : new ApiError(error.status, detail, error.headers);
}

/** Request fields are echoed (the contract keeps every field the client sent); the service's own replace them. */
function serialise(request: Json, output: ProcessOutput): Json {
  const response: Json = { ...request, objects: output.objects };
  if (output.verification) response.verification = output.verification;
  return response;
}

/**
 * A 200 JSON answer. The echoed `$image` (up to MAX_BODY_SIZE of base64) is written as it is rather than
 * copied into one big JSON string: per request that is one body-sized copy less at peak. Only when
 * `verbatim` (canonical base64, nothing to escape).
 */
function sendJson(res: Response, body: Json, verbatim: boolean): void {
  const image = body.$image;
  if (!verbatim || typeof image !== 'string' || image.length < 65_536) {
    res.status(200).json(body);
    return;
  }
  const { $image: _, ...rest } = body;
  const tail = JSON.stringify(rest);
  const head = '{"$image":"';
  const after = tail === '{}' ? '"}' : `",${tail.slice(1)}`;
  res.status(200);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', head.length + image.length + Buffer.byteLength(after));
  res.write(head);
  res.write(image, 'latin1');
  res.end(after);
}

function setTimingHeader(res: Response, t: RequestTimings, started: number): void {
  const total = performance.now() - started;
  const rest = Math.max(0, total - t.decodeMs - t.inferenceMs);
  res.setHeader('Server-Timing', `decode;dur=${t.decodeMs.toFixed(2)}, inference;dur=${t.inferenceMs.toFixed(2)}, rest;dur=${rest.toFixed(2)}, total;dur=${total.toFixed(2)}`);
}

function sendEvent(res: Response, reply: { headers: Record<string, string>; body: string }): void {
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  res.status(200).send(reply.body);
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ApiError(504, `Request took longer than ${ms} ms (REQUEST_TIMEOUT_MS)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function toApiError(error: unknown, where: string): ApiError {
  if (error instanceof ApiError) return error;
  // Never log request content: the message of an unexpected error is logged, not the body.
  log('error', `${where}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ApiError(500, 'Internal server error');
}

export function log(level: 'info' | 'warn' | 'error', message: string): void {
  const line = JSON.stringify({ severity: level.toUpperCase(), time: new Date().toISOString(), message: redact(message) });
  if (level === 'error') console.error(line);
  else console.log(line);
}

export { Messages };
