// Test harness for the TFJS -> ONNX converter: builds tiny TFJS graph models in memory, runs them
// in tfjs (cpu backend, the reference) and the converted ONNX in onnxruntime-node, and compares.

import { seededRng } from '../../shared/seeded-random.js';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { convertTfGraphModel, type ConvertOptions } from '../../scripts/tfjs-to-onnx/convert.js';
import { floatToHalf } from '../../scripts/tfjs-to-onnx/fp16.js';
import { type ModelJson, type TfAttrValue, type TfNodeDef, type WeightSpec, parseGraphModel } from '../../scripts/tfjs-to-onnx/graph-model.js';
import { type Dim, inspectModel } from '../../scripts/tfjs-to-onnx/onnx-builder.js';

// ---- attributes in model.json encoding ----

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export const a = {
  s: (v: string): TfAttrValue => ({ s: b64(v) }),
  i: (v: number): TfAttrValue => ({ i: String(v) }),
  f: (v: number): TfAttrValue => ({ f: v }),
  b: (v: boolean): TfAttrValue => ({ b: v }),
  type: (v: string): TfAttrValue => ({ type: v }),
  ints: (v: number[]): TfAttrValue => ({ list: { i: v.map(String) } }),
  strs: (v: string[]): TfAttrValue => ({ list: { s: v.map(b64) } }),
};

export type TestDType = 'float32' | 'int32' | 'bool';

// ---- seeded data ----

/** Seeded, deterministic inputs (shared/seeded-random.ts). */
export const rng = (seed: number): (() => number) => seededRng(seed);

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

const numel = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);

// ---- tiny graph models ----

export interface Feed {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: TestDType;
}

/** Builds a TFJS graph model (model.json + one weight shard) node by node. */
export class TinyGraph {
  private readonly nodes: TfNodeDef[] = [];
  private readonly specs: WeightSpec[] = [];
  private readonly chunks: Uint8Array[] = [];
  private counter = 0;

  input(name: string, shape: number[], dtype: TestDType = 'float32'): string {
    const dt = dtype === 'float32' ? 'DT_FLOAT' : dtype === 'int32' ? 'DT_INT32' : 'DT_BOOL';
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: a.type(dt), shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  /** A weight; `fp16` stores it float16-quantised like the human-models files. */
  const(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'int32' = 'float32', fp16 = false, name?: string): string {
    const n = name ?? `const_${this.counter++}`;
    if (values.length !== numel(shape)) throw new Error(`const ${n}: ${values.length} values for [${shape}]`);
    const dt = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    this.nodes.push({ name: n, op: 'Const', attr: { dtype: a.type(dt), value: { tensor: { dtype: dt, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    const spec: WeightSpec = { name: n, shape, dtype };
    if (fp16 && dtype === 'float32') {
      spec.quantization = { dtype: 'float16', original_dtype: 'float32' };
      this.chunks.push(new Uint8Array(floatToHalf(values).buffer));
    } else {
      const arr = dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
      this.chunks.push(new Uint8Array(arr.buffer));
    }
    this.specs.push(spec);
    return n;
  }

  ints(values: number[], shape?: number[]): string {
    return this.const(values, shape ?? [values.length], 'int32');
  }

  scalarInt(v: number): string {
    return this.const([v], [], 'int32');
  }

  randomConst(shape: number[], seed: number, fp16 = false, lo = -1, hi = 1): string {
    return this.const(randomArray(numel(shape), seed, lo, hi), shape, 'float32', fp16);
  }

  node(op: string, inputs: string[], attrs: Record<string, TfAttrValue> = {}, name?: string): string {
    const n = name ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ name: n, op, input: inputs, attr: { T: a.type('DT_FLOAT'), ...attrs } });
    return n;
  }

  build(outputs: string[]): { json: ModelJson; weights: Uint8Array } {
    const total = this.chunks.reduce((s, c) => s + c.byteLength, 0);
    const weights = new Uint8Array(total);
    let off = 0;
    for (const c of this.chunks) {
      weights.set(c, off);
      off += c.byteLength;
    }
    const json: ModelJson = {
      format: 'graph-model',
      generatedBy: 'test',
      convertedBy: null,
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.specs }],
      signature: { outputs: Object.fromEntries(outputs.map((o) => [o, { name: o.includes(':') ? o : `${o}:0` }])) },
    };
    return { json, weights };
  }
}

// ---- runners ----

let backendReady: Promise<boolean> | undefined;

export async function tfReady(): Promise<void> {
  backendReady ??= tf.setBackend('cpu');
  await backendReady;
}

function handler(json: ModelJson, weights: Uint8Array): tf.io.IOHandler {
  const ab = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return {
    load: async () => ({
      modelTopology: json.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as unknown as tf.io.WeightsManifestEntry[],
      weightData: ab,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
      signature: json.signature as unknown as object,
      userDefinedMetadata: json.userDefinedMetadata as unknown as Record<string, object>,
    }),
  };
}

export interface Result {
  data: Float64Array;
  shape: number[];
}

/** Runs the TFJS graph; output names are TF tensor names ('node' or 'node:1'). */
export async function runTfjs(json: ModelJson, weights: Uint8Array, feeds: Record<string, Feed>, outputs: string[]): Promise<Result[]> {
  await tfReady();
  const model = await tfconv.loadGraphModel(handler(json, weights));
  try {
    const inputs: tf.NamedTensorMap = {};
    for (const [k, f] of Object.entries(feeds)) inputs[k] = tf.tensor(f.data, f.shape, f.dtype);
    const out = model.execute(inputs, outputs.map((o) => (o.includes(':') ? o : `${o}:0`)));
    const list = Array.isArray(out) ? out : [out];
    const res = await Promise.all(list.map(async (t) => ({ data: Float64Array.from(await t.data<'float32'>(), Number), shape: t.shape })));
    tf.dispose([...list, ...Object.values(inputs)]);
    return res;
  } finally {
    model.dispose();
  }
}

export const ORT_OPTIONS: ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 3,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

export function ortFeeds(feeds: Record<string, Feed>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [k, f] of Object.entries(feeds)) out[k] = new ort.Tensor(f.dtype, f.data, f.shape);
  return out;
}

export function fromOrt(t: ort.Tensor): Result {
  const d = t.data;
  const data = d instanceof BigInt64Array ? Float64Array.from(d, Number) : Float64Array.from(d as ArrayLike<number>, Number);
  return { data, shape: [...t.dims] };
}

/** Runs a converted model in onnxruntime; output names as in the ONNX graph. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Feed>, outputs: string[], options = ORT_OPTIONS): Promise<Result[]> {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const res = await session.run(ortFeeds(feeds));
    return outputs.map((o) => {
      const t = res[o];
      if (!t) throw new Error(`ORT produced no output '${o}' (has ${Object.keys(res).join(', ')})`);
      return fromOrt(t);
    });
  } finally {
    await session.release();
  }
}

export interface Diff {
  maxAbs: number;
  maxRef: number;
  rel: number;
}

/** |a-b| relative to max(1, max|ref|), the acceptance metric of the brief. */
export function diff(ref: Result, got: Result): Diff {
  if (ref.shape.join(',') !== got.shape.join(',')) throw new Error(`shape mismatch: tfjs [${ref.shape}] vs onnx [${got.shape}]`);
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const r = ref.data[i];
    const g = got.data[i];
    const d = Number.isNaN(r) && Number.isNaN(g) ? 0 : Math.abs(r - g);
    if (!(d <= maxAbs)) maxAbs = d; // NaN-safe: a NaN mismatch becomes the max
    maxRef = Math.max(maxRef, Math.abs(r));
  }
  return { maxAbs, maxRef, rel: maxAbs / Math.max(1, maxRef) };
}

/**
 * Declared ONNX output dims that disagree with what ORT actually produced (symbolic dims match
 * anything). Output dims come from the converter's static shape inference, so this checks it.
 */
export function declaredShapeMismatches(bytes: Uint8Array, names: string[], actual: Result[]): string[] {
  const declared = new Map(inspectModel(bytes).outputs.map((o) => [o.name, o.dims] as [string, Dim[]]));
  const bad: string[] = [];
  names.forEach((n, i) => {
    const d = declared.get(n);
    if (!d || d.length === 0) return; // no shape declared: nothing to check
    const ok = d.length === actual[i].shape.length && d.every((x, k) => typeof x !== 'number' || x === actual[i].shape[k]);
    if (!ok) bad.push(`${n}: declared [${d.join(',')}], got [${actual[i].shape.join(',')}]`);
  });
  return bad;
}

/** Converts an in-memory model, runs both engines and returns per-output diffs. */
export async function checkTiny(
  g: TinyGraph,
  feeds: Record<string, Feed>,
  outputs: string[],
  options?: ConvertOptions,
): Promise<{ diffs: Diff[]; bytes: Uint8Array; ref: Result[]; got: Result[] }> {
  const { json, weights } = g.build(outputs);
  const { bytes } = convertTfGraphModel(parseGraphModel(json, weights, 'tiny'), options);
  const ref = await runTfjs(json, weights, feeds, outputs);
  const got = await runOrt(bytes, feeds, outputs);
  return { diffs: ref.map((r, i) => diff(r, got[i])), bytes, ref, got };
}

export function floatFeed(shape: number[], seed: number, lo = -1, hi = 1): Feed {
  return { data: randomArray(numel(shape), seed, lo, hi), shape, dtype: 'float32' };
}

export function intFeed(values: number[], shape: number[]): Feed {
  return { data: Int32Array.from(values), shape, dtype: 'int32' };
}

// ---- real model files ----

export function loadModelFiles(modelJsonPath: string): { json: ModelJson; weights: Uint8Array } {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  const parts = json.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(resolve(dirname(modelJsonPath), p)));
  return { json, weights: new Uint8Array(Buffer.concat(parts)) };
}
