// Element-wise TF ops: arithmetic, activations, comparisons, logic, casts.

import type { OpContext, OpMapper, Val } from '../context.js';
import { tfTypeToDType } from '../graph-model.js';
import { attr } from '../onnx-builder.js';
import { broadcastDims } from '../shapes.js';
import { isIntDType, makeTensor, reshapeTensor } from '../tensor.js';
import { binaryOp, castTo, unaryOp } from './common.js';

/** Clip(0, 6): ONNX has no Relu6; opset-13 Clip takes its bounds as inputs of the data type. */
export function relu6(ctx: OpContext, x: Val | string, out?: string): string {
  return ctx.emit('Clip', [x, ctx.scalar('float32', 0), ctx.scalar('float32', 6)], {}, out);
}

function floorDiv(ctx: OpContext): Val[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const shape = broadcastDims(a.shape, b.shape);
  if (isIntDType(a.dtype)) {
    // ONNX integer Div truncates; (a - floormod(a, b)) / b is an exact division, so it floors.
    const mod = ctx.emit('Mod', [a, b], { fmod: attr.int(0) });
    const diff = ctx.emit('Sub', [a, mod]);
    return [{ name: ctx.emit('Div', [diff, b], {}, ctx.outName()), dtype: a.dtype, shape }];
  }
  const q = ctx.emit('Div', [a, b]);
  return [{ name: ctx.emit('Floor', [q], {}, ctx.outName()), dtype: a.dtype, shape }];
}

function floorMod(ctx: OpContext): Val[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const shape = broadcastDims(a.shape, b.shape);
  if (isIntDType(a.dtype)) {
    // fmod=0 gives the divisor's sign, i.e. Python/TF floor semantics (only legal for ints).
    return [{ name: ctx.emit('Mod', [a, b], { fmod: attr.int(0) }, ctx.outName()), dtype: a.dtype, shape }];
  }
  const q = ctx.emit('Floor', [ctx.emit('Div', [a, b])]);
  const out = ctx.emit('Sub', [a, ctx.emit('Mul', [q, b])], {}, ctx.outName());
  return [{ name: out, dtype: a.dtype, shape }];
}

function truncMod(ctx: OpContext): Val[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const out = ctx.emit('Mod', [a, b], { fmod: attr.int(1) }, ctx.outName());
  return [{ name: out, dtype: a.dtype, shape: broadcastDims(a.shape, b.shape) }];
}

function biasAdd(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  let bias = ctx.input(1);
  if ((ctx.attrs.string('data_format') ?? 'NHWC') === 'NCHW') {
    // Channels are dim 1: give the bias trailing unit dims so it broadcasts there.
    const rank = x.shape?.length ?? 4;
    const trailing = new Array<number>(rank - 2).fill(1);
    if (bias.const) bias = ctx.constVal(reshapeTensor(bias.const, [bias.const.shape[0], ...trailing]));
    else bias = { name: ctx.emit('Unsqueeze', [bias, ctx.int64s(trailing.map((_, i) => i + 1))]), dtype: bias.dtype };
  }
  const out = ctx.emit('Add', [x, bias], {}, ctx.outName());
  return [{ name: out, dtype: x.dtype, shape: x.shape }];
}

function cast(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const to = tfTypeToDType(ctx.attrs.type('DstT'));
  if (!to) ctx.fail(`cast to ${ctx.attrs.type('DstT') ?? '?'}`);
  const dst = to as NonNullable<typeof to>;
  if (dst === x.dtype) return [x];
  return [{ name: castTo(ctx, x, dst, ctx.outName()), dtype: dst, shape: x.shape }];
}

function addN(ctx: OpContext): Val[] {
  const ins = Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i));
  if (ins.length === 1) return [ins[0]];
  const shape = ins.slice(1).reduce((s, v) => broadcastDims(s, v.shape), ins[0].shape);
  return [{ name: ctx.emit('Sum', ins, {}, ctx.outName()), dtype: ins[0].dtype, shape }];
}

function squaredDifference(ctx: OpContext): Val[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const d = ctx.emit('Sub', [a, b]);
  return [{ name: ctx.emit('Mul', [d, d], {}, ctx.outName()), dtype: a.dtype, shape: broadcastDims(a.shape, b.shape) }];
}

function select(ctx: OpContext): Val[] {
  let cond = ctx.input(0);
  const x = ctx.input(1);
  const y = ctx.input(2);
  if (ctx.op === 'Select') {
    // TF1 Select with a vector condition picks whole rows: give it trailing unit dims first.
    const cr = cond.shape?.length;
    const xr = x.shape?.length;
    if (cr === undefined || xr === undefined) ctx.fail('Select needs known ranks');
    const c = cr as number;
    const r = xr as number;
    if (c === 1 && r > 1) {
      const axes = Array.from({ length: r - 1 }, (_, i) => i + 1);
      cond = { name: ctx.emit('Unsqueeze', [cond, ctx.int64s(axes)]), dtype: 'bool' };
    } else if (c !== 0 && c !== r) ctx.fail('Select condition rank');
  }
  const shape = broadcastDims(broadcastDims(cond.shape, x.shape), y.shape);
  return [{ name: ctx.emit('Where', [cond, x, y], {}, ctx.outName()), dtype: x.dtype, shape }];
}

function notEqual(ctx: OpContext): Val[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const eq = ctx.emit('Equal', [a, b]);
  return [{ name: ctx.emit('Not', [eq], {}, ctx.outName()), dtype: 'bool', shape: broadcastDims(a.shape, b.shape) }];
}

function leakyRelu(ctx: OpContext): Val[] {
  return unaryOp('LeakyRelu', (c) => ({ alpha: attr.float(c.attrs.float('alpha', 0.2)) }))(ctx);
}

function rsqrt(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const s = ctx.emit('Sqrt', [x]);
  return [{ name: ctx.emit('Reciprocal', [s], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
}

function square(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  return [{ name: ctx.emit('Mul', [x, x], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
}

function clipByValue(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const lo = ctx.input(1);
  const hi = ctx.input(2);
  // Clip wants scalar bounds; TF allows broadcastable tensors, which Max/Min handle exactly.
  if (lo.shape?.length === 0 && hi.shape?.length === 0) {
    return [{ name: ctx.emit('Clip', [x, lo, hi], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
  }
  const m = ctx.emit('Max', [x, lo]);
  return [{ name: ctx.emit('Min', [m, hi], {}, ctx.outName()), dtype: x.dtype, shape: broadcastDims(x.shape, lo.shape) }];
}

function zerosOnesLike(value: number) {
  return (ctx: OpContext): Val[] => {
    const x = ctx.input(0);
    const shape = ctx.emit('Shape', [x]);
    const out = ctx.emit('ConstantOfShape', [shape], { value: attr.tensor(makeTensor(x.dtype, [1], [value])) }, ctx.outName());
    return [{ name: out, dtype: x.dtype, shape: x.shape }];
  };
}

function relu6Op(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  return [{ name: relu6(ctx, x, ctx.outName()), dtype: x.dtype, shape: x.shape }];
}

function prelu(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const alpha = ctx.input(1);
  return [{ name: ctx.emit('PRelu', [x, alpha], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
}

function softplus(ctx: OpContext): Val[] {
  return unaryOp('Softplus')(ctx);
}

export const elementwiseOps: Record<string, OpMapper> = {
  Add: binaryOp('Add'),
  AddV2: binaryOp('Add'),
  BiasAdd: biasAdd,
  BiasAddV1: biasAdd,
  Sub: binaryOp('Sub'),
  Mul: binaryOp('Mul'),
  RealDiv: binaryOp('Div'),
  Div: binaryOp('Div'),
  TruncateDiv: binaryOp('Div'),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  Mod: truncMod,
  TruncateMod: truncMod,
  Maximum: binaryOp('Max'),
  Minimum: binaryOp('Min'),
  Pow: binaryOp('Pow'),
  SquaredDifference: squaredDifference,
  AddN: addN,
  Equal: binaryOp('Equal', 'bool'),
  NotEqual: notEqual,
  Less: binaryOp('Less', 'bool'),
  LessEqual: binaryOp('LessOrEqual', 'bool'),
  Greater: binaryOp('Greater', 'bool'),
  GreaterEqual: binaryOp('GreaterOrEqual', 'bool'),
  LogicalAnd: binaryOp('And', 'bool'),
  LogicalOr: binaryOp('Or', 'bool'),
  LogicalNot: unaryOp('Not'),
  Select: select,
  SelectV2: select,
  Cast: cast,
  Abs: unaryOp('Abs'),
  Neg: unaryOp('Neg'),
  Exp: unaryOp('Exp'),
  Log: unaryOp('Log'),
  Sqrt: unaryOp('Sqrt'),
  Rsqrt: rsqrt,
  Square: square,
  Reciprocal: unaryOp('Reciprocal'),
  Inv: unaryOp('Reciprocal'),
  Floor: unaryOp('Floor'),
  Ceil: unaryOp('Ceil'),
  Round: unaryOp('Round'), // both round half to even
  Sign: unaryOp('Sign'),
  Sin: unaryOp('Sin'),
  Cos: unaryOp('Cos'),
  Tan: unaryOp('Tan'),
  Asin: unaryOp('Asin'),
  Acos: unaryOp('Acos'),
  Atan: unaryOp('Atan'),
  Sinh: unaryOp('Sinh'),
  Cosh: unaryOp('Cosh'),
  Tanh: unaryOp('Tanh'),
  Erf: unaryOp('Erf'),
  IsNan: unaryOp('IsNaN'),
  Sigmoid: unaryOp('Sigmoid'),
  Relu: unaryOp('Relu'),
  Relu6: relu6Op,
  Elu: unaryOp('Elu', () => ({ alpha: attr.float(1) })),
  Selu: unaryOp('Selu', () => ({ alpha: attr.float(1.6732632423543772), gamma: attr.float(1.0507009873554805) })),
  Softplus: softplus,
  Softsign: unaryOp('Softsign'),
  LeakyRelu: leakyRelu,
  Prelu: prelu,
  ClipByValue: clipByValue,
  ZerosLike: zerosOnesLike(0),
  OnesLike: zerosOnesLike(1),
};
