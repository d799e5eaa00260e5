// Reads a TFJS graph model (model.json + binary weight shards) into plain typed structures.
// Only the 'graph-model' format is handled: layers models have no TF GraphDef to map.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { halfToFloat } from './fp16.js';
import { type ConstTensor, type DType, numel } from './tensor.js';

// ---- model.json schema (the subset TFJS writes) ----

export interface TfShapeProto {
  dim?: { size?: string | number; name?: string }[];
  unknownRank?: boolean;
}

export interface TfTensorProto {
  dtype?: string;
  tensorShape?: TfShapeProto;
  floatVal?: (number | string)[];
  doubleVal?: (number | string)[];
  intVal?: number[];
  int64Val?: (string | number)[];
  boolVal?: boolean[];
  halfVal?: number[];
  tensorContent?: string;
}

export interface TfAttrList {
  s?: string[];
  i?: (string | number)[];
  f?: (number | string)[];
  b?: boolean[];
  type?: string[];
  shape?: TfShapeProto[];
}

export interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number | string;
  b?: boolean;
  type?: string;
  shape?: TfShapeProto;
  tensor?: TfTensorProto;
  list?: TfAttrList;
  func?: { name?: string };
}

export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
  device?: string;
}

export interface TfTensorInfo {
  name: string;
  dtype?: string;
  tensorShape?: TfShapeProto;
}

export interface TfSignature {
  inputs?: Record<string, TfTensorInfo>;
  outputs?: Record<string, TfTensorInfo>;
}

export interface WeightQuantization {
  dtype: 'float16' | 'uint8' | 'uint16';
  scale?: number;
  min?: number;
  original_dtype?: string;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: { node?: TfNodeDef[]; library?: { function?: unknown[] }; versions?: unknown };
  weightsManifest: WeightsGroup[];
  signature?: TfSignature;
  userDefinedMetadata?: { signature?: TfSignature } & Record<string, unknown>;
}

/** A loaded graph model: its nodes, its decoded weights and its signature. */
export interface TfGraphModel {
  name: string;
  json: ModelJson;
  nodes: TfNodeDef[];
  weights: Map<string, ConstTensor>;
  signature?: TfSignature;
}

// ---- loading ----

/** Loads model.json and its shards from disk (shard paths are relative to the json file). */
export function loadGraphModelFile(modelJsonPath: string): TfGraphModel {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as ModelJson;
  const dir = dirname(modelJsonPath);
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) shards.push(readFileSync(resolve(dir, p)));
  }
  const name = modelJsonPath.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  return parseGraphModel(json, concatBytes(shards), name);
}

/** Builds the model from an already parsed model.json and the concatenated weight bytes. */
export function parseGraphModel(json: ModelJson, weightData: Uint8Array, name = 'model'): TfGraphModel {
  if (json.format !== undefined && json.format !== 'graph-model') {
    throw new Error(`${name}: format '${json.format}' is not a TFJS graph model`);
  }
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new Error(`${name}: modelTopology.node is missing`);
  const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  const weights = decodeWeights(specs, weightData);
  const signature = json.signature ?? json.userDefinedMetadata?.signature;
  return { name, json, nodes, weights, signature };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Bytes per element as stored in the shard (quantised weights are smaller than their dtype). */
function storedElementBytes(spec: WeightSpec): number {
  if (spec.quantization) return spec.quantization.dtype === 'uint8' ? 1 : 2;
  switch (spec.dtype) {
    case 'float32':
    case 'int32':
      return 4;
    case 'bool':
      return 1;
    default:
      throw new Error(`weight '${spec.name}': dtype '${spec.dtype}' is not supported`);
  }
}

/** Decodes the manifest's weights in order; shards are one contiguous byte stream. */
export function decodeWeights(specs: WeightSpec[], bytes: Uint8Array): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  let off = 0;
  for (const spec of specs) {
    const n = numel(spec.shape);
    const size = n * storedElementBytes(spec);
    if (off + size > bytes.byteLength) {
      throw new Error(`weight '${spec.name}' runs past the end of the weight data (${bytes.byteLength} bytes)`);
    }
    // A fresh copy is 0-aligned, so typed-array views over it are legal whatever `off` was.
    out.set(spec.name, decodeOne(spec, bytes.slice(off, off + size), n));
    off += size;
  }
  return out;
}

function decodeOne(spec: WeightSpec, chunk: Uint8Array, n: number): ConstTensor {
  const shape = [...spec.shape];
  const q = spec.quantization;
  const targetInt = spec.dtype === 'int32';
  if (q) {
    if (q.dtype === 'float16') {
      const half = new Uint16Array(chunk.buffer, chunk.byteOffset, n);
      const data = halfToFloat(half);
      if (targetInt) return { dtype: 'int64', shape, data: Float64Array.from(data, Math.round) };
      return { dtype: 'float32', shape, data, half: half.slice() };
    }
    // Affine quantisation: value = q * scale + min (TFJS' own formula).
    const raw = q.dtype === 'uint8' ? chunk : new Uint16Array(chunk.buffer, chunk.byteOffset, n);
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    if (targetInt) return { dtype: 'int64', shape, data: Float64Array.from(raw, (v) => Math.round(v * scale + min)) };
    return { dtype: 'float32', shape, data: Float32Array.from(raw, (v) => v * scale + min) };
  }
  switch (spec.dtype) {
    case 'float32':
      return { dtype: 'float32', shape, data: new Float32Array(chunk.buffer, chunk.byteOffset, n).slice() };
    case 'int32':
      return { dtype: 'int64', shape, data: Float64Array.from(new Int32Array(chunk.buffer, chunk.byteOffset, n)) };
    case 'bool':
      return { dtype: 'bool', shape, data: chunk.slice() };
    default:
      throw new Error(`weight '${spec.name}': dtype '${spec.dtype}' is not supported`);
  }
}

// ---- attributes ----

/** TF DataType enum names -> converter dtypes (int32 widened to int64, see tensor.ts). */
export function tfTypeToDType(tfType: string | undefined): DType | undefined {
  switch (tfType) {
    case 'DT_FLOAT':
      return 'float32';
    case 'DT_HALF':
      return 'float16';
    case 'DT_DOUBLE':
      return 'float64';
    case 'DT_INT32':
    case 'DT_INT64':
    case 'DT_INT16':
      return 'int64';
    case 'DT_UINT8':
      return 'uint8';
    case 'DT_INT8':
      return 'int8';
    case 'DT_BOOL':
      return 'bool';
    default:
      return undefined;
  }
}

function decodeB64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

function toInt(v: string | number): number {
  return typeof v === 'number' ? v : Number.parseInt(v, 10);
}

function toFloat(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Typed accessors for a node's attributes (TFJS stores strings base64, ints as strings). */
export class AttrReader {
  constructor(private readonly attrs: Record<string, TfAttrValue>) {}

  has(name: string): boolean {
    return this.attrs[name] !== undefined;
  }

  string(name: string, fallback?: string): string | undefined {
    const a = this.attrs[name];
    return a?.s !== undefined ? decodeB64(a.s) : fallback;
  }

  int(name: string, fallback: number): number {
    const a = this.attrs[name];
    return a?.i !== undefined ? toInt(a.i) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.attrs[name];
    return a?.f !== undefined ? toFloat(a.f) : fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const a = this.attrs[name];
    return a?.b !== undefined ? a.b : fallback;
  }

  type(name: string): string | undefined {
    return this.attrs[name]?.type;
  }

  ints(name: string): number[] | undefined {
    const l = this.attrs[name]?.list;
    if (!l) return undefined;
    return (l.i ?? []).map(toInt);
  }

  strings(name: string): string[] | undefined {
    const l = this.attrs[name]?.list;
    if (!l) return undefined;
    return (l.s ?? []).map(decodeB64);
  }

  shape(name: string): TfShapeProto | undefined {
    return this.attrs[name]?.shape;
  }

  tensor(name: string): TfTensorProto | undefined {
    return this.attrs[name]?.tensor;
  }
}

/** Static dims of a TF shape proto: -1 (or missing) for unknown dims, undefined for unknown rank. */
export function shapeProtoDims(s: TfShapeProto | undefined): number[] | undefined {
  if (!s || s.unknownRank) return undefined;
  return (s.dim ?? []).map((d) => (d.size === undefined ? -1 : toInt(d.size)));
}

/**
 * Decodes a Const node's inline `value` tensor (used when a constant is not in the manifest:
 * TFJS inlines nothing in practice, but hand-written or older files may).
 */
export function decodeInlineTensor(t: TfTensorProto): ConstTensor {
  const dtype = tfTypeToDType(t.dtype);
  if (!dtype) throw new Error(`inline tensor dtype ${t.dtype} is not supported`);
  const shape = shapeProtoDims(t.tensorShape) ?? [];
  const n = numel(shape);
  let values: number[] = [];
  if (t.tensorContent !== undefined) {
    const raw = Buffer.from(t.tensorContent, 'base64');
    const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    if (t.dtype === 'DT_FLOAT') values = Array.from(new Float32Array(ab));
    else if (t.dtype === 'DT_INT32') values = Array.from(new Int32Array(ab));
    else if (t.dtype === 'DT_BOOL' || t.dtype === 'DT_UINT8') values = Array.from(new Uint8Array(ab));
    else throw new Error(`inline tensorContent for ${t.dtype} is not supported`);
  } else if (t.floatVal) values = t.floatVal.map(toFloat);
  else if (t.doubleVal) values = t.doubleVal.map(toFloat);
  else if (t.intVal) values = t.intVal.map(Number);
  else if (t.int64Val) values = t.int64Val.map((v) => toInt(v));
  else if (t.boolVal) values = t.boolVal.map((b) => (b ? 1 : 0));
  const data = dtype === 'float32' ? new Float32Array(n) : dtype === 'bool' || dtype === 'uint8' ? new Uint8Array(n) : new Float64Array(n);
  // TF protos may store one value to be splatted over the whole shape.
  for (let i = 0; i < n; i++) data[i] = values.length === 0 ? 0 : values[Math.min(i, values.length - 1)];
  return { dtype, shape, data };
}

/** Splits a TF input reference 'node', 'node:1' or '^node' (control dependency). */
export function parseInputRef(ref: string): { node: string; index: number; control: boolean } {
  if (ref.startsWith('^')) return { node: ref.slice(1), index: 0, control: true };
  const parts = ref.split(':');
  if (parts.length === 1) return { node: ref, index: 0, control: false };
  const last = parts[parts.length - 1];
  if (/^\d+$/.test(last)) {
    // 'node:out_arg:k' (function-style) keeps the node name in the first part.
    return { node: parts[0], index: Number(last), control: false };
  }
  return { node: ref, index: 0, control: false };
}
