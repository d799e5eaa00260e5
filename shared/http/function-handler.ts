import type { HttpFunction } from '@google-cloud/functions-framework';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { ModuleName } from '../modules/catalogue.js';
import type { RuntimeEnv } from './limits.js';
import { cpuQuota } from '../workers/cpu-quota.js';
import { ModuleWorkers, workersAvailable } from '../workers/module-workers.js';
import { PixelBudget } from './admission.js';
import { trackWork } from './gate.js';
import { docsPage, openApiDocument } from './openapi.js';
import { log, ServiceEndpoint, toApiError } from './service-endpoint.js';

// onnxruntime-node writes a device id and a telemetry database under $HOME/.cache/Microsoft and a
// session file in $TMPDIR unless telemetry is off, and a service must not write to disk. It reads this
// when the first session is created, i.e. after this module (which creates every endpoint) is loaded.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

/**
 * An HTTP function over one or more services. `mounted: false` serves one service at the root (a
 * Knative function); `mounted: true` serves each under `/{service}` (the all-in-one server, and an
 * ingress in front of many functions).
 */
export interface FunctionHandler {
  handler: HttpFunction;
  ready: Promise<void>;
  endpoints: ServiceEndpoint[];
  /** Stops the module workers (each finishes the inference it is in); call before the process exits. */
  close: () => Promise<void>;
}

export function createFunctionHandler(configs: ResolvedServiceConfig[], limits: RuntimeEnv, mounted: boolean): FunctionHandler {
  const pixels = new PixelBudget(limits.MAX_IMAGE_PIXELS);
  const workers = moduleWorkers(limits);
  const endpoints = configs.map((c) => new ServiceEndpoint(c, limits, pixels, workers));
  const byService = new Map(endpoints.map((e) => [e.service, e]));
  const mounts = endpoints.map((e) => ({ prefix: mounted ? `/${e.service}` : '', module: e.config.module as ModuleName }));
  let openapi: Record<string, unknown> | undefined;
  const ready = Promise.all(endpoints.map((e) => e.ready)).then(() => undefined);

  const route: HttpFunction = async (req, res) => {
    try {
      const path = (req.path || '/').replace(/\/+$/, '') || '/';
      const method = req.method ?? 'GET';
      const topLevel = path === '/openapi.json' || path === '/docs' || (path === '/health' && (mounted || endpoints.length !== 1));
      if (topLevel && method !== 'GET' && method !== 'HEAD') {
        res.status(405).set('Allow', 'GET').json({ detail: 'Method Not Allowed' });
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        if (path === '/openapi.json') {
          openapi ??= openApiDocument(mounts, limits.MAX_OBJECTS);
          res.status(200).json(openapi);
          return;
        }
        if (path === '/docs') {
          openapi ??= openApiDocument(mounts, limits.MAX_OBJECTS);
          res.status(200).type('html').send(docsPage(openapi));
          return;
        }
        if (path === '/health' && (mounted || endpoints.length !== 1)) {
          const services = Object.fromEntries(endpoints.map((e) => [e.service, e.health().body]));
          const ok = endpoints.every((e) => e.health().status === 200);
          res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'loading', services });
          return;
        }
      }
      let endpoint: ServiceEndpoint | undefined;
      let rest = path;
      if (mounted) {
        const m = /^\/([^/]+)(\/.*)?$/.exec(path);
        endpoint = m ? byService.get(m[1]) : undefined;
        rest = m?.[2] ?? '/';
      } else {
        endpoint = endpoints[0];
      }
      if (!endpoint) {
        res.status(404).json({ detail: `Not Found: no service at ${path.split('/').slice(0, 2).join('/')}; services: ${[...byService.keys()].join(', ')}` });
        return;
      }
      await endpoint.handle(req, res, rest);
    } catch (error) {
      const apiError = toApiError(error, 'router');
      if (!res.headersSent) res.status(apiError.status).json(apiError.body);
      else log('error', 'response failed after headers were sent');
    }
  };
  const handler: HttpFunction = (req, res) => {
    const work = route(req, res);
    trackWork(req, work);
    return work;
  };
  return { handler, ready, endpoints, close: async () => workers?.close() };
}

/** Each worker holds its own copy of the models (~45 MiB for one function, ~160 for all); past a few, more pods serve better than more threads. */
const MAX_AUTO_WORKERS = 4;

/** The process's module workers per MODULE_WORKERS, or none (modules run on the HTTP thread). */
function moduleWorkers(limits: RuntimeEnv): ModuleWorkers | undefined {
  const cpus = Math.min(cpuQuota(), MAX_AUTO_WORKERS);
  const count = limits.MODULE_WORKERS === 'auto' ? (cpus > 1 ? cpus : 0) : limits.MODULE_WORKERS;
  if (count === 0) return undefined;
  if (!workersAvailable()) {
    // Under vitest (TypeScript sources) `auto` quietly runs modules in-process; an explicit count is a mistake worth a line.
    if (limits.MODULE_WORKERS !== 'auto') log('warn', 'module workers need the compiled build (npm run build); modules run on the HTTP thread');
    return undefined;
  }
  return new ModuleWorkers(count);
}
