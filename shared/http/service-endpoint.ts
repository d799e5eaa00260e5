import { performance } from 'node:perf_hooks';
import type { Request, Response } from '@google-cloud/functions-framework';
import { ApiError, Messages, validationError } from '../contract/errors.js';
import { sampleRequestSchema } from '../contract/requests.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import { isCloudEvent, parseCloudEvent, replyEvent } from '../events/cloudevents.js';
import { decodeBase64Image } from '../image/base64.js';
import { decodeImage } from '../image/decode.js';
import type { RgbImage } from '../image/rgb-image.js';
import { requestTimings, type RequestTimings } from '../models/session.js';
import { Modules } from '../modules/catalogue.js';
import { normaliseObjects } from '../modules/objects.js';
import { createModule } from '../modules/registry.js';
import type { ModuleRuntime, ProcessOutput } from '../modules/runtime.js';
import type { RuntimeEnv } from './limits.js';
import { imageField } from './multipart.js';

type Json = Record<string, unknown>;

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
  ) {
    this.schema = sampleRequestSchema({ imageRequired: Modules[config.module].imageRequired, limits: { maxObjects: limits.MAX_OBJECTS } });
    const started = performance.now();
    this.ready = createModule(config).then(
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
  async handle(req: Request, res: Response, path: string, body: Buffer): Promise<void> {
    const timings: RequestTimings = { decodeMs: 0, inferenceMs: 0 };
    const started = performance.now();
    const method = req.method ?? 'GET';
    const event = method === 'POST' && path === '/' && isCloudEvent(req.headers);
    let eventId = '';
    try {
      if (path === '/process/sample' || path === '/process/image' || path === '/') {
        if (method !== 'POST') throw new ApiError(405, 'Method Not Allowed', { Allow: 'POST' });
        const module = this.module();
        let request: Json;
        let image: RgbImage | undefined;
        if (path === '/process/image') {
          const type = String(req.headers['content-type'] ?? '');
          if (!type.startsWith('multipart/form-data')) throw new ApiError(415, 'process/image takes multipart/form-data with a file field "image"');
          const bytes = imageField(body, type);
          image = await this.decode(bytes, timings);
          request = { $image: bytes.toString('base64'), objects: [] };
        } else {
          if (path === '/') {
            if (!event) throw new ApiError(400, 'POST / takes a CloudEvent (binary or structured mode); use /process/sample or /process/image for plain requests');
            const incoming = parseCloudEvent(req.headers, body, this.config.service);
            eventId = incoming.id;
            request = this.parseSample(incoming.data);
          } else {
            request = this.parseSample(parseJsonBody(req, body));
          }
          if (typeof request.$image === 'string') image = await this.decode(decodeBase64Image(request.$image), timings);
        }
        const output = await withTimeout(
          requestTimings.run(timings, () =>
            module.process({ image, objects: normaliseObjects(request.objects as Json[] | undefined), route: path === '/process/image' ? 'image' : 'sample' }),
          ),
          this.limits.REQUEST_TIMEOUT_MS,
        );
        const response = serialise(request, output);
        setTimingHeader(res, timings, started);
        if (event) return sendEvent(res, replyEvent(this.config.service, 'result', response, eventId));
        res.status(200).json(response);
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'Method Not Allowed', { Allow: 'GET' });
      if (path === '/health') {
        const { status, body: health } = this.health();
        res.status(status).json(health);
        return;
      }
      throw new ApiError(404, 'Not Found');
    } catch (error) {
      const apiError = toApiError(error, this.config.service);
      setTimingHeader(res, timings, started);
      if (event && apiError.status < 500) return sendEvent(res, replyEvent(this.config.service, 'error', apiError.body, eventId || 'unknown'));
      for (const [k, v] of Object.entries(apiError.headers)) res.setHeader(k, v);
      res.status(apiError.status).json(apiError.body);
    }
  }

  private parseSample(data: unknown): Json {
    const parsed = this.schema.safeParse(data);
    if (!parsed.success) throw validationError(parsed.error, data);
    return parsed.data as Json;
  }

  private async decode(bytes: Buffer, timings: RequestTimings): Promise<RgbImage> {
    const t = performance.now();
    try {
      return await decodeImage(bytes, { maxPixels: this.limits.MAX_IMAGE_PIXELS });
    } finally {
      timings.decodeMs += performance.now() - t;
    }
  }
}

function parseJsonBody(req: Request, body: Buffer): unknown {
  const type = String(req.headers['content-type'] ?? 'application/json');
  if (!/^application\/([\w.+-]*\+)?json\b/i.test(type) && !type.startsWith('text/plain')) {
    throw new ApiError(415, 'process/sample takes application/json');
  }
  if (body.length === 0) throw new ApiError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ApiError(422, [{ loc: ['body'], msg: `JSON decode error: ${(error as Error).message.slice(0, 120)}`, type: 'json_invalid' }]);
  }
}

/** Request fields are echoed (the contract keeps every field the client sent); the service's own replace them. */
function serialise(request: Json, output: ProcessOutput): Json {
  const response: Json = { ...request, objects: output.objects };
  if (output.verification) response.verification = output.verification;
  return response;
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
  const line = JSON.stringify({ severity: level.toUpperCase(), time: new Date().toISOString(), message });
  if (level === 'error') console.error(line);
  else console.log(line);
}

export { Messages };
