// Builds an ONNX ModelProto (opset 13) with the protobufjs-6 static code of `onnx-proto`.

import { endianness } from 'node:os';
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import type { ConstTensor, DType } from './tensor.js';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

export const OPSET = 13;
/** IR version 7 is the one that introduced opset 13 (ONNX 1.8). */
const IR_VERSION = 7;
const LITTLE_ENDIAN = endianness() === 'LE';

export function onnxDataType(d: DType): number {
  switch (d) {
    case 'float32':
      return DataType.FLOAT;
    case 'float16':
      return DataType.FLOAT16;
    case 'float64':
      return DataType.DOUBLE;
    case 'int64':
      return DataType.INT64;
    case 'int32':
      return DataType.INT32;
    case 'uint8':
      return DataType.UINT8;
    case 'int8':
      return DataType.INT8;
    case 'bool':
      return DataType.BOOL;
  }
}

/** Static size, symbolic name (dim_param) or null for an unknown dim. */
export type Dim = number | string | null;

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: ConstTensor };

export type Attrs = Record<string, AttrValue | undefined>;

/** Attribute constructors: JS numbers cannot tell int from float, so the kind is explicit. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  tensor: (value: ConstTensor): AttrValue => ({ kind: 'tensor', value }),
};

/** Little-endian bytes of a tensor in the requested ONNX storage type. */
export function tensorRawBytes(t: ConstTensor, storeAs: DType = t.dtype): Uint8Array {
  const n = t.data.length;
  switch (storeAs) {
    case 'float16': {
      if (!t.half) throw new Error('float16 storage needs the original half bits');
      return leBytes(t.half, 2);
    }
    case 'float32':
      return leBytes(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), 4);
    case 'float64':
      return leBytes(t.data instanceof Float64Array ? t.data : Float64Array.from(t.data), 8);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(Number(t.data[i])));
      return leBytes(out, 8);
    }
    case 'int32':
      return leBytes(Int32Array.from(t.data), 4);
    case 'uint8':
    case 'bool':
      return new Uint8Array(Uint8Array.from(t.data));
    case 'int8':
      return new Uint8Array(Int8Array.from(t.data).buffer);
  }
}

function leBytes(a: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array, width: number): Uint8Array {
  const bytes = new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  if (!LITTLE_ENDIAN) {
    // ONNX raw_data is little-endian by definition.
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

export function tensorProto(name: string, t: ConstTensor, storeAs: DType = t.dtype): O.ITensorProto {
  return { name, dims: [...t.shape], dataType: onnxDataType(storeAs), rawData: tensorRawBytes(t, storeAs) };
}

function attributeProto(name: string, a: AttrValue): O.IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: a.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value };
    case 'string':
      return { name, type: AttrType.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: tensorProto('', a.value) };
  }
}

function valueInfo(name: string, dtype: DType, dims: Dim[] | undefined): O.IValueInfoProto {
  const tensorType: O.TypeProto.ITensor = { elemType: onnxDataType(dtype) };
  if (dims) {
    tensorType.shape = {
      dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})),
    };
  }
  return { name, type: { tensorType } };
}

export interface ModelMetadata {
  graphName: string;
  docString?: string;
  producerVersion?: string;
  props?: Record<string, string>;
}

/** Accumulates nodes, initialisers and graph I/O; hands out collision-free value names. */
export class OnnxGraphBuilder {
  private readonly nodes: O.INodeProto[] = [];
  private readonly initializers: O.ITensorProto[] = [];
  private readonly inputs: O.IValueInfoProto[] = [];
  private readonly outputs: O.IValueInfoProto[] = [];
  /** Names already given to a value. */
  private readonly used = new Set<string>();
  /** Names owned by a TF node (its outputs may claim them; generated names avoid them). */
  private readonly reserved = new Set<string>();
  private nodeCounter = 0;

  reserve(names: Iterable<string>): void {
    for (const n of names) this.reserved.add(n);
  }

  isUsed(name: string): boolean {
    return this.used.has(name);
  }

  /** Takes an exact name; producing the same value name twice is a converter bug. */
  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`internal: ONNX value name '${name}' produced twice`);
    this.used.add(name);
    return name;
  }

  /** A fresh value name derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name) || this.reserved.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  addInput(name: string, dtype: DType, dims: Dim[] | undefined): void {
    this.inputs.push(valueInfo(name, dtype, dims));
  }

  addOutput(name: string, dtype: DType, dims: Dim[] | undefined): void {
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  addInitializer(name: string, t: ConstTensor, storeAs: DType = t.dtype): void {
    this.initializers.push(tensorProto(name, t, storeAs));
  }

  addNode(opType: string, inputs: string[], outputs: string[], attrs: Attrs = {}, name?: string): void {
    const attribute: O.IAttributeProto[] = [];
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attribute.push(attributeProto(k, v));
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: name ?? `${outputs[0] ?? opType}#${this.nodeCounter++}`,
      attribute,
    });
  }

  /** Renames a produced value everywhere (used to free a graph-output name for a final Cast). */
  renameValue(from: string, to: string): void {
    this.claim(to);
    this.used.delete(from);
    const swap = (names: string[] | null | undefined): string[] => (names ?? []).map((n) => (n === from ? to : n));
    for (const node of this.nodes) {
      node.input = swap(node.input);
      node.output = swap(node.output);
    }
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get initializerCount(): number {
    return this.initializers.length;
  }

  opHistogram(): Record<string, number> {
    const h: Record<string, number> = {};
    for (const n of this.nodes) h[n.opType ?? '?'] = (h[n.opType ?? '?'] ?? 0) + 1;
    return h;
  }

  toBytes(meta: ModelMetadata): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'image-api tfjs-to-onnx',
      producerVersion: meta.producerVersion ?? '1',
      docString: meta.docString ?? '',
      metadataProps: Object.entries(meta.props ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Decodes a serialised model (tests and tooling use it to inspect converter output). */
export function decodeModel(bytes: Uint8Array): O.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export interface IoSummary {
  name: string;
  elemType: number;
  dims: Dim[];
}

export interface ModelSummary {
  opset: number;
  inputs: IoSummary[];
  outputs: IoSummary[];
  /** Op type of every node, in graph order. */
  ops: string[];
  initializers: { name: string; dataType: number }[];
}

/** A plain summary of a serialised model: I/O, node op types, initialiser types. */
export function inspectModel(bytes: Uint8Array): ModelSummary {
  const m = decodeModel(bytes);
  const g = m.graph;
  const io = (v: O.IValueInfoProto): IoSummary => ({
    name: v.name ?? '',
    elemType: v.type?.tensorType?.elemType ?? 0,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? Number(d.dimValue) : null)),
  });
  return {
    opset: Number(m.opsetImport.find((o) => !o.domain)?.version ?? 0),
    inputs: (g?.input ?? []).map(io),
    outputs: (g?.output ?? []).map(io),
    ops: (g?.node ?? []).map((n) => n.opType ?? ''),
    initializers: (g?.initializer ?? []).map((t) => ({ name: t.name ?? '', dataType: t.dataType ?? 0 })),
  };
}
