// The contract between the conversion driver (convert.ts) and the per-op mappers (ops/*.ts).

import type { AttrReader, TfNodeDef } from './graph-model.js';
import type { Attrs, Dim } from './onnx-builder.js';
import type { ConstTensor, DType } from './tensor.js';

/**
 * A TF tensor as it exists in the ONNX graph being built. Constants stay in JS until a node
 * actually consumes them (`OpContext.use`), so values only needed at conversion time
 * (axes, perms, paddings, shapes) never become initialisers.
 */
export interface Val {
  /** ONNX value name; unset for a constant that has not been written out yet. */
  name?: string;
  dtype: DType;
  /** Known dims (number | symbolic string | null); undefined when even the rank is unknown. */
  shape?: Dim[];
  const?: ConstTensor;
  /** Preferred initialiser name for a constant. */
  hint?: string;
}

export interface ResolvedOptions {
  keepFp16: boolean;
}

export interface OpContext {
  readonly node: TfNodeDef;
  readonly op: string;
  readonly name: string;
  readonly attrs: AttrReader;
  readonly options: ResolvedOptions;
  /** Number of data (non-control) inputs. */
  readonly inputCount: number;
  input(i: number): Val;
  /** The constant value of input i; throws UnsupportedOpError naming `what` when it is computed at run time. */
  constInput(i: number, what: string): ConstTensor;
  /** ONNX name of a value, writing a constant out as an initialiser on first use. */
  use(v: Val): string;
  /** Adds one node with one output and returns the output name (a fresh temporary unless `out` is given). */
  emit(op: string, inputs: (Val | string)[], attrs?: Attrs, out?: string): string;
  /** Adds one node with several outputs. */
  emitMulti(op: string, inputs: (Val | string)[], outs: string[], attrs?: Attrs): string[];
  /** Name reserved for this node's TF output i ('node' or 'node:i'). */
  outName(i?: number): string;
  /** A fresh name for an intermediate value of this node. */
  tmp(suffix: string): string;
  constVal(t: ConstTensor, hint?: string): Val;
  int64s(values: number[], shape?: number[]): Val;
  scalar(dtype: DType, value: number): Val;
  /** Throws UnsupportedOpError for this node. */
  fail(detail?: string): never;
}

/** Maps one TF node; returns its outputs in TF output order. */
export type OpMapper = (ctx: OpContext) => Val[];

export function val(name: string, dtype: DType, shape?: Dim[]): Val {
  return shape ? { name, dtype, shape } : { name, dtype };
}
