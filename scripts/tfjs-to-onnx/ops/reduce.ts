// Reductions, arg-max/min and top-k.

import type { OpContext, OpMapper, Val } from '../context.js';
import { type Dim, attr } from '../onnx-builder.js';
import { normAxis } from '../shapes.js';
import { constAxes } from './common.js';

function reducedShape(shape: Dim[] | undefined, axes: number[], keep: boolean): Dim[] | undefined {
  if (!shape) return undefined;
  const norm = axes.map((a) => normAxis(a, shape.length));
  return keep ? shape.map((d, i) => (norm.includes(i) ? 1 : d)) : shape.filter((_, i) => !norm.includes(i));
}

/**
 * TF reductions take axes as an input. In opset 13 only ReduceSum does too; the others need
 * them as an attribute, so the axes must be constant. An empty axis list is a no-op in TF but
 * "reduce everything" in ONNX, hence the explicit Identity.
 */
function reduce(onnxOp: string, axesAsInput: boolean): OpMapper {
  return (ctx) => {
    const x = ctx.input(0);
    const axes = constAxes(ctx, 1, 'reduction_indices');
    const keep = ctx.attrs.bool('keep_dims', false);
    if (axes.length === 0) return [{ name: ctx.emit('Identity', [x], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
    const a = { keepdims: attr.int(keep ? 1 : 0) };
    const out = axesAsInput
      ? ctx.emit(onnxOp, [x, ctx.int64s(axes)], a, ctx.outName())
      : ctx.emit(onnxOp, [x], { ...a, axes: attr.ints(axes) }, ctx.outName());
    return [{ name: out, dtype: x.dtype, shape: reducedShape(x.shape, axes, keep) }];
  };
}

/** All/Any over bools: ORT has no bool kernels for ReduceMin/Max, so reduce int32 casts. */
function reduceBool(onnxOp: 'ReduceMin' | 'ReduceMax'): OpMapper {
  return (ctx) => {
    const x = ctx.input(0);
    const axes = constAxes(ctx, 1, 'reduction_indices');
    const keep = ctx.attrs.bool('keep_dims', false);
    if (axes.length === 0) return [{ name: ctx.emit('Identity', [x], {}, ctx.outName()), dtype: 'bool', shape: x.shape }];
    const asInt = ctx.emit('Cast', [x], { to: attr.int(6) }); // INT32
    const r = ctx.emit(onnxOp, [asInt], { axes: attr.ints(axes), keepdims: attr.int(keep ? 1 : 0) });
    const out = ctx.emit('Cast', [r], { to: attr.int(9) }, ctx.outName()); // BOOL
    return [{ name: out, dtype: 'bool', shape: reducedShape(x.shape, axes, keep) }];
  };
}

function argMinMax(onnxOp: 'ArgMax' | 'ArgMin'): OpMapper {
  return (ctx) => {
    const x = ctx.input(0);
    const axis = constAxes(ctx, 1, 'dimension')[0];
    // Both TF and ONNX (select_last_index=0) return the first index on ties.
    const out = ctx.emit(onnxOp, [x], { axis: attr.int(axis), keepdims: attr.int(0) }, ctx.outName());
    return [{ name: out, dtype: 'int64', shape: reducedShape(x.shape, [axis], false) }];
  };
}

function topK(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const kIn = ctx.input(1);
  // ONNX wants K as a 1-element int64 tensor; TF passes a scalar.
  const k = kIn.const ? ctx.int64s([Number(kIn.const.data[0])]) : { name: ctx.emit('Reshape', [kIn, ctx.int64s([1])]), dtype: 'int64' as const };
  // sorted=false in TF leaves the order unspecified, so sorted output is always valid.
  const [values, indices] = ctx.emitMulti('TopK', [x, k], [ctx.outName(0), ctx.outName(1)], {
    axis: attr.int(-1),
    largest: attr.int(1),
    sorted: attr.int(1),
  });
  let shape: Dim[] | undefined;
  if (x.shape) {
    shape = [...x.shape];
    shape[shape.length - 1] = kIn.const ? Number(kIn.const.data[0]) : null;
  }
  return [
    { name: values, dtype: x.dtype, shape },
    { name: indices, dtype: 'int64', shape },
  ];
}

export const reduceOps: Record<string, OpMapper> = {
  Mean: reduce('ReduceMean', false),
  Max: reduce('ReduceMax', false),
  Min: reduce('ReduceMin', false),
  Prod: reduce('ReduceProd', false),
  Sum: reduce('ReduceSum', true),
  All: reduceBool('ReduceMin'),
  Any: reduceBool('ReduceMax'),
  ArgMax: argMinMax('ArgMax'),
  ArgMin: argMinMax('ArgMin'),
  TopKV2: topK,
};
