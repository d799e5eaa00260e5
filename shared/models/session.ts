import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import './ort-environment.js'; // before onnxruntime-node loads
import * as ort from 'onnxruntime-node';
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
 * Threads: on the 2-core machines this targets, one intra-op thread per session measured fastest for the
 * small models, and ORT's spin-waiting starves sharp and the event loop, so spinning is off.
 */
export function sessionOptions(): ort.InferenceSession.SessionOptions {
  const threads = Number(process.env.ORT_INTRA_OP_THREADS ?? 1);
  return {
    intraOpNumThreads: Number.isInteger(threads) && threads > 0 ? threads : 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

const models = new Map<string, Promise<Model>>();

/**
 * Loads a model once per process and runs it once on zeros of `warmShapes` (input name → shape), so
 * the first real request does not pay for ORT's lazy allocations.
 */
export function loadModel(name: string, warmShapes: Record<string, number[]>): Promise<Model> {
  let model = models.get(name);
  if (!model) {
    model = (async () => {
      const session = await ort.InferenceSession.create(verifiedModelBytes(name), sessionOptions());
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
