import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import './ort-environment.js'; // before onnxruntime-node loads
import * as ort from 'onnxruntime-node';
import { cpuQuota } from '../workers/cpu-quota.js';
import { verifiedModelBytes } from './manifest.js';

/** Per-request time accounting (decode / inference), read by the HTTP layer for `Server-Timing`. */
export interface RequestTimings {
  decodeMs: number;
  inferenceMs: number;
}
export const requestTimings = new AsyncLocalStorage<RequestTimings>();

/**
 * A loaded model: one InferenceSession per model per process, created on first use and shared by every
 * request and every service mounted in the process.
 */
export class Model {
  constructor(
    readonly name: string,
    private readonly session: ort.InferenceSession,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
    const t = performance.now();
    try {
      return await this.session.run(feeds);
    } finally {
      const timings = requestTimings.getStore();
      if (timings) timings.inferenceMs += performance.now() - t;
    }
  }
}

/**
 * Intra-op threads: the model's own choice (`threads`), measured on the 2-core machines this targets:
 * the large models (fr_expression 54 → 33 ms, centernet 45 → 29, faceres 14 → 9.6, fr_feature 7.5 → 6.1)
 * gain from a second thread, the small ones lose to the hand-off. Capped at the process's CPU quota;
 * ORT_INTRA_OP_THREADS overrides every model. ORT's spin-waiting starves sharp and the event loop, so
 * spinning is off.
 */
export function sessionOptions(threads = 1): ort.InferenceSession.SessionOptions {
  const forced = Number(process.env.ORT_INTRA_OP_THREADS);
  const wanted = Number.isInteger(forced) && forced > 0 ? forced : Math.min(threads, cpuQuota());
  return {
    intraOpNumThreads: Math.max(1, wanted),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

const models = new Map<string, Promise<Model>>();

/**
 * Loads a model once per thread and runs it once on zeros of `warmShapes` (input name → shape), so
 * the first real request does not pay for ORT's lazy allocations. `threads`: see sessionOptions.
 */
export function loadModel(name: string, warmShapes: Record<string, number[]>, threads = 1): Promise<Model> {
  let model = models.get(name);
  if (!model) {
    model = (async () => {
      const session = await ort.InferenceSession.create(verifiedModelBytes(name), sessionOptions(threads));
      const feeds: Record<string, ort.Tensor> = {};
      for (const [input, shape] of Object.entries(warmShapes)) {
        feeds[input] = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
      }
      await session.run(feeds);
      return new Model(name, session);
    })();
    models.set(name, model);
    model.catch(() => models.delete(name));
  }
  return model;
}

export { ort };
