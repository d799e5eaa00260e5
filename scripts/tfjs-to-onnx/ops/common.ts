// Helpers shared by the op mappers.

import type { OpContext, Val } from '../context.js';
import { type Attrs, attr, onnxDataType } from '../onnx-builder.js';
import { broadcastDims } from '../shapes.js';
import type { DType } from '../tensor.js';
import { toNumbers } from '../tensor.js';

/** One ONNX node, same dtype/shape as input 0, named as the TF output. */
export function unaryOp(onnxOp: string, attrs?: (ctx: OpContext) => Attrs) {
  return (ctx: OpContext): Val[] => {
    const x = ctx.input(0);
    const out = ctx.emit(onnxOp, [x], attrs ? attrs(ctx) : {}, ctx.outName());
    return [{ name: out, dtype: x.dtype, shape: x.shape }];
  };
}

/** One broadcasting ONNX node over inputs 0 and 1. */
export function binaryOp(onnxOp: string, resultDType?: DType) {
  return (ctx: OpContext): Val[] => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const out = ctx.emit(onnxOp, [a, b], {}, ctx.outName());
    return [{ name: out, dtype: resultDType ?? a.dtype, shape: broadcastDims(a.shape, b.shape) }];
  };
}

/** A constant axis/axes input as numbers. */
export function constAxes(ctx: OpContext, i: number, what = 'axis'): number[] {
  return toNumbers(ctx.constInput(i, what));
}

export function castTo(ctx: OpContext, v: Val, to: DType, out?: string): string {
  return ctx.emit('Cast', [v], { to: attr.int(onnxDataType(to)) }, out);
}

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];
