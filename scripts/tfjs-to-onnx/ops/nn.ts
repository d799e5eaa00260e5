// Convolutions, pooling, matrix products and normalisation.
//
// Layout: the graph stays NHWC. Each spatial op is wrapped as Transpose(NHWC->NCHW) -> op ->
// Transpose(NCHW->NHWC); onnxruntime's transpose optimiser cancels adjacent pairs, so the
// cost is paid once per graph rather than per layer, and no other op needs axis remapping.

import type { OpContext, OpMapper, Val } from '../context.js';
import { type Attrs, type Dim, attr } from '../onnx-builder.js';
import { broadcastDims, convOutDim, permuteDims, samePadding } from '../shapes.js';
import { type ConstTensor, reshapeTensor, transposeTensor } from '../tensor.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from './common.js';
import { relu6 } from './elementwise.js';

type Padding = 'SAME' | 'VALID' | 'EXPLICIT';

interface SpatialParams {
  nchw: boolean;
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  /** [top, bottom, left, right] for EXPLICIT. */
  explicit?: [number, number, number, number];
}

function spatialParams(ctx: OpContext, stridesAttr = 'strides'): SpatialParams {
  const fmt = ctx.attrs.string('data_format') ?? 'NHWC';
  if (fmt !== 'NHWC' && fmt !== 'NCHW') ctx.fail(`data_format ${fmt}`);
  const nchw = fmt === 'NCHW';
  const hw = (list: number[] | undefined, what: string): [number, number] => {
    if (!list || list.length === 0) return [1, 1];
    if (list.length !== 4) ctx.fail(`${what} must have 4 entries`);
    return nchw ? [list[2], list[3]] : [list[1], list[2]];
  };
  const padding = (ctx.attrs.string('padding') ?? 'VALID') as Padding;
  if (padding !== 'SAME' && padding !== 'VALID' && padding !== 'EXPLICIT') ctx.fail(`padding ${padding as string}`);
  const p: SpatialParams = {
    nchw,
    strides: hw(ctx.attrs.ints(stridesAttr), stridesAttr),
    dilations: hw(ctx.attrs.ints('dilations'), 'dilations'),
    padding,
  };
  if (padding === 'EXPLICIT') {
    const e = ctx.attrs.ints('explicit_paddings') ?? [];
    if (e.length !== 8) ctx.fail('explicit_paddings must have 8 entries');
    // Pairs per dim in data_format order.
    p.explicit = nchw ? [e[4], e[5], e[6], e[7]] : [e[2], e[3], e[4], e[5]];
  }
  return p;
}

/**
 * ONNX padding attributes. TF 'SAME' amounts are computed here (TF's formula) whenever they do not
 * depend on the input size: known size, or stride 1 (then the total is just the dilated kernel - 1).
 * Otherwise SAME_UPPER, which puts the odd pixel at the end as TF does; onnxruntime refuses it
 * with dilation, a combination TF(JS) rejects anyway (stride > 1 with dilation > 1).
 */
function paddingAttrs(ctx: OpContext, p: SpatialParams, inHW: [Dim, Dim], kernel: [number, number]): Attrs {
  if (p.padding === 'VALID') return { pads: attr.ints([0, 0, 0, 0]) };
  if (p.padding === 'EXPLICIT') {
    const [t, b, l, r] = p.explicit as [number, number, number, number];
    return { pads: attr.ints([t, l, b, r]) };
  }
  const pair = (i: 0 | 1): [number, number] | undefined => {
    const size = inHW[i];
    if (typeof size === 'number') return samePadding(size, kernel[i], p.strides[i], p.dilations[i]);
    // Any size works when the stride is 1: the total padding is size-independent.
    return p.strides[i] === 1 ? samePadding(1, kernel[i], 1, p.dilations[i]) : undefined;
  };
  const ph = pair(0);
  const pw = pair(1);
  if (ph && pw) return { pads: attr.ints([ph[0], pw[0], ph[1], pw[1]]) };
  if (p.dilations[0] !== 1 || p.dilations[1] !== 1) ctx.fail('SAME padding with stride > 1, dilation > 1 and unknown input size');
  return { auto_pad: attr.string('SAME_UPPER') };
}

function outSpatial(p: SpatialParams, inHW: [Dim, Dim], kernel: [number, number]): [Dim, Dim] {
  const pad = (i: 0 | 1): 'SAME' | 'VALID' | [number, number] => {
    if (p.padding !== 'EXPLICIT') return p.padding;
    const e = p.explicit as [number, number, number, number];
    return i === 0 ? [e[0], e[1]] : [e[2], e[3]];
  };
  return [
    convOutDim(inHW[0], kernel[0], p.strides[0], p.dilations[0], pad(0)),
    convOutDim(inHW[1], kernel[1], p.strides[1], p.dilations[1], pad(1)),
  ];
}

/** Dims of x as NCHW, whatever the TF layout. */
function nchwDims(x: Val, p: SpatialParams): Dim[] | undefined {
  if (!x.shape || x.shape.length !== 4) return undefined;
  return p.nchw ? x.shape : permuteDims(x.shape, NHWC_TO_NCHW);
}

function toNchw(ctx: OpContext, x: Val, p: SpatialParams): string {
  return p.nchw ? ctx.use(x) : ctx.emit('Transpose', [x], { perm: attr.ints(NHWC_TO_NCHW) }, ctx.tmp('nchw'));
}

/** Moves an NCHW result back to the TF layout under the TF output name. */
function fromNchw(ctx: OpContext, y: string, p: SpatialParams, dims: Dim[] | undefined, x: Val): Val[] {
  if (p.nchw) return [{ name: y, dtype: x.dtype, shape: dims }];
  const out = ctx.emit('Transpose', [y], { perm: attr.ints(NCHW_TO_NHWC) }, ctx.outName());
  return [{ name: out, dtype: x.dtype, shape: dims ? permuteDims(dims, NCHW_TO_NHWC) : undefined }];
}

type Activation = 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'tanh' | 'leakyrelu' | 'prelu' | undefined;

interface FusedSpec {
  bias?: Val;
  activation: Activation;
  alpha?: Val;
  leakyAlpha: number;
}

/** Reads `fused_ops`/`num_args` of _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul. */
function fusedSpec(ctx: OpContext, firstArg: number): FusedSpec {
  const ops = (ctx.attrs.strings('fused_ops') ?? []).map((s) => s.toLowerCase());
  const numArgs = ctx.attrs.int('num_args', ctx.inputCount - firstArg);
  let idx = 0;
  const spec: FusedSpec = { activation: undefined, leakyAlpha: ctx.attrs.float('leakyrelu_alpha', 0.2) };
  const known = new Set(['relu', 'relu6', 'elu', 'sigmoid', 'tanh', 'leakyrelu', 'prelu']);
  for (const op of ops) {
    if (op === 'biasadd') {
      if (spec.bias || spec.activation) ctx.fail(`fused_ops order ${ops.join(',')}`);
      spec.bias = ctx.input(firstArg + idx++);
    } else if (known.has(op)) {
      if (spec.activation) ctx.fail(`two fused activations (${ops.join(',')})`);
      spec.activation = op as Activation;
      if (op === 'prelu') spec.alpha = ctx.input(firstArg + idx++);
    } else {
      // FusedBatchNorm et al.: TFJS itself refuses these.
      ctx.fail(`fused op '${op}'`);
    }
  }
  if (idx !== numArgs) ctx.fail(`num_args ${numArgs} does not match fused_ops ${ops.join(',')}`);
  return spec;
}

/**
 * Applies a fused activation. For results still in NCHW (channelsFirstFromNhwc) a constant PReLU
 * alpha written for NHWC broadcasting is re-laid out so it broadcasts over channels again.
 */
function applyActivation(
  ctx: OpContext,
  y: string,
  spec: FusedSpec,
  out: string | undefined,
  channelsFirstFromNhwc: boolean,
): string {
  switch (spec.activation) {
    case undefined:
      return out ? ctx.emit('Identity', [y], {}, out) : y;
    case 'relu':
      return ctx.emit('Relu', [y], {}, out);
    case 'relu6':
      return relu6(ctx, y, out);
    case 'elu':
      return ctx.emit('Elu', [y], { alpha: attr.float(1) }, out);
    case 'sigmoid':
      return ctx.emit('Sigmoid', [y], {}, out);
    case 'tanh':
      return ctx.emit('Tanh', [y], {}, out);
    case 'leakyrelu':
      return ctx.emit('LeakyRelu', [y], { alpha: attr.float(spec.leakyAlpha) }, out);
    case 'prelu': {
      let alpha = spec.alpha as Val;
      if (channelsFirstFromNhwc) {
        const a = alpha.const;
        if (!a) ctx.fail('PReLU alpha of an NHWC conv must be constant');
        const t = a as ConstTensor;
        const r4 = reshapeTensor(t, [...new Array<number>(4 - t.shape.length).fill(1), ...t.shape]);
        alpha = ctx.constVal(transposeTensor(r4, NHWC_TO_NCHW), `${alpha.hint ?? ctx.name}/nchw`);
      }
      return ctx.emit('PRelu', [y, alpha], {}, out);
    }
  }
}

type ConvKind = 'conv' | 'depthwise';

/** Filter as an ONNX OIHW weight plus the group count. */
function convWeight(ctx: OpContext, filter: Val, kind: ConvKind): { w: Val; group: number; kernel: [number, number]; outChannels: Dim } {
  const f = filter.const;
  if (f) {
    if (f.shape.length !== 4) ctx.fail('filter must be 4-D');
    const [kh, kw, ci, m] = f.shape;
    if (kind === 'conv') {
      return { w: ctx.constVal(transposeTensor(f, [3, 2, 0, 1]), filter.hint), group: 1, kernel: [kh, kw], outChannels: m };
    }
    // HWCM -> (C*M)x1xHxW: output channel c*M+m of TF is group c's m-th filter in ONNX.
    const cm = transposeTensor(f, [2, 3, 0, 1]);
    return { w: ctx.constVal(reshapeTensor(cm, [ci * m, 1, kh, kw]), filter.hint), group: ci, kernel: [kh, kw], outChannels: ci * m };
  }
  const s = filter.shape;
  if (!s || s.length !== 4 || typeof s[0] !== 'number' || typeof s[1] !== 'number') ctx.fail('run-time filter needs a known kernel size');
  const dims = s as Dim[];
  const kernel: [number, number] = [dims[0] as number, dims[1] as number];
  if (kind === 'conv') {
    const w = ctx.emit('Transpose', [filter], { perm: attr.ints([3, 2, 0, 1]) });
    return { w: { name: w, dtype: filter.dtype }, group: 1, kernel, outChannels: dims[3] };
  }
  if (typeof dims[2] !== 'number') ctx.fail('run-time depthwise filter needs a known channel count');
  const t = ctx.emit('Transpose', [filter], { perm: attr.ints([2, 3, 0, 1]) });
  // Reshape's 0 copies the kernel dims from the transposed filter.
  const w = ctx.emit('Reshape', [t, ctx.int64s([-1, 1, 0, 0])]);
  const m = dims[3];
  return { w: { name: w, dtype: filter.dtype }, group: dims[2] as number, kernel, outChannels: typeof m === 'number' ? (dims[2] as number) * m : null };
}

function convLike(kind: ConvKind, fused: boolean): OpMapper {
  return (ctx) => {
    const x = ctx.input(0);
    const p = spatialParams(ctx);
    const spec: FusedSpec = fused ? fusedSpec(ctx, 2) : { activation: undefined, leakyAlpha: 0.2 };
    const filter = ctx.input(1);
    const { w, group, kernel, outChannels } = convWeight(ctx, filter, kind);
    const inC = x.shape?.length === 4 ? x.shape[p.nchw ? 1 : 3] : null;
    const filterC = filter.shape?.[2];
    // TF infers grouped convolution from the channel counts; TFJS does not support it, so we cannot verify it.
    if (kind === 'conv' && typeof inC === 'number' && typeof filterC === 'number' && inC !== filterC) ctx.fail(`grouped convolution (${inC} input channels, filter has ${filterC})`);
    const xd = nchwDims(x, p);
    const inHW: [Dim, Dim] = xd ? [xd[2], xd[3]] : [null, null];
    const ins: (Val | string)[] = [toNchw(ctx, x, p), w];
    if (spec.bias) ins.push(spec.bias);
    const convAttrs: Attrs = {
      strides: attr.ints(p.strides),
      dilations: attr.ints(p.dilations),
      group: attr.int(group),
      kernel_shape: attr.ints(kernel),
      ...paddingAttrs(ctx, p, inHW, kernel),
    };
    const [oh, ow] = outSpatial(p, inHW, kernel);
    const outDims: Dim[] | undefined = xd ? [xd[0], outChannels, oh, ow] : undefined;
    const noAct = spec.activation === undefined;
    // NCHW graphs have no closing transpose, so the last node must carry the TF name.
    const convOut = p.nchw && noAct ? ctx.outName() : ctx.tmp('conv');
    let y = ctx.emit('Conv', ins, convAttrs, convOut);
    if (!noAct) y = applyActivation(ctx, y, spec, p.nchw ? ctx.outName() : ctx.tmp('act'), !p.nchw);
    return fromNchw(ctx, y, p, outDims, x);
  };
}

function pool(onnxOp: 'MaxPool' | 'AveragePool', v2: boolean): OpMapper {
  return (ctx) => {
    const x = ctx.input(0);
    let ksizeList = ctx.attrs.ints('ksize');
    let p: SpatialParams;
    if (v2) {
      // MaxPoolV2 takes ksize and strides as (constant) inputs.
      ksizeList = Array.from(ctx.constInput(1, 'ksize').data, Number);
      const strides = Array.from(ctx.constInput(2, 'strides').data, Number);
      p = spatialParams(ctx);
      p.strides = p.nchw ? [strides[2], strides[3]] : [strides[1], strides[2]];
    } else p = spatialParams(ctx);
    if (!ksizeList || ksizeList.length !== 4) ctx.fail('ksize must have 4 entries');
    const k = ksizeList as number[];
    const kernel: [number, number] = p.nchw ? [k[2], k[3]] : [k[1], k[2]];
    const xd = nchwDims(x, p);
    const inHW: [Dim, Dim] = xd ? [xd[2], xd[3]] : [null, null];
    const a: Attrs = { kernel_shape: attr.ints(kernel), strides: attr.ints(p.strides), ...paddingAttrs(ctx, p, inHW, kernel) };
    // TF averages over valid pixels only: count_include_pad stays 0 (the ONNX default).
    const y = ctx.emit(onnxOp, [toNchw(ctx, x, p)], a, p.nchw ? ctx.outName() : ctx.tmp('pool'));
    const [oh, ow] = outSpatial(p, inHW, kernel);
    return fromNchw(ctx, y, p, xd ? [xd[0], xd[1], oh, ow] : undefined, x);
  };
}

/** MatMul / _FusedMatMul: TF MatMul is strictly 2-D, which is exactly Gemm. */
function matMul(fused: boolean): OpMapper {
  return (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const ta = ctx.attrs.bool('transpose_a', false);
    const tb = ctx.attrs.bool('transpose_b', false);
    const spec: FusedSpec = fused ? fusedSpec(ctx, 2) : { activation: undefined, leakyAlpha: 0.2 };
    const ins: (Val | string)[] = [a, b];
    if (spec.bias) ins.push(spec.bias);
    const gemmAttrs: Attrs = { transA: attr.int(ta ? 1 : 0), transB: attr.int(tb ? 1 : 0) };
    const noAct = spec.activation === undefined;
    let y = ctx.emit('Gemm', ins, gemmAttrs, noAct ? ctx.outName() : ctx.tmp('gemm'));
    if (!noAct) y = applyActivation(ctx, y, spec, ctx.outName(), false);
    const m = a.shape?.[ta ? 1 : 0] ?? null;
    const n = b.shape?.[tb ? 0 : 1] ?? null;
    return [{ name: y, dtype: a.dtype, shape: a.shape && b.shape ? [m, n] : undefined }];
  };
}

/** BatchMatMul(V2/V3): adjoints become a swap of the two innermost dims. */
function batchMatMul(ctx: OpContext): Val[] {
  const adj = (v: Val, flag: string): Val => {
    if (!ctx.attrs.bool(flag, false)) return v;
    const r = v.shape?.length;
    if (r === undefined) ctx.fail(`${flag} needs a known rank`);
    const rank = r as number;
    const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
    return { name: ctx.emit('Transpose', [v], { perm: attr.ints(perm) }), dtype: v.dtype, shape: permuteDims(v.shape, perm) };
  };
  const a = adj(ctx.input(0), 'adj_x');
  const b = adj(ctx.input(1), 'adj_y');
  let shape: Dim[] | undefined;
  if (a.shape && b.shape && a.shape.length >= 2 && b.shape.length >= 2) {
    const batch = broadcastDims(a.shape.slice(0, -2), b.shape.slice(0, -2));
    shape = batch ? [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]] : undefined;
  }
  return [{ name: ctx.emit('MatMul', [a, b], {}, ctx.outName()), dtype: a.dtype, shape }];
}

/** Inference-mode FusedBatchNorm over the channel dim, folded to one Mul and one Add. */
function fusedBatchNorm(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  if (ctx.attrs.bool('is_training', false)) ctx.fail('training-mode batch norm');
  const scale = ctx.constInput(1, 'scale');
  const offset = ctx.constInput(2, 'offset');
  const mean = ctx.constInput(3, 'mean');
  const variance = ctx.constInput(4, 'variance');
  const eps = ctx.attrs.float('epsilon', 0.001);
  const c = scale.shape[0];
  const mul = new Float32Array(c);
  const add = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    mul[i] = scale.data[i] / Math.sqrt(variance.data[i] + eps);
    add[i] = offset.data[i] - mean.data[i] * mul[i];
  }
  const nchw = (ctx.attrs.string('data_format') ?? 'NHWC') === 'NCHW';
  const shape = nchw ? [c, 1, 1] : [c];
  const m = ctx.constVal({ dtype: 'float32', shape, data: mul }, `${ctx.name}/scale`);
  const a = ctx.constVal({ dtype: 'float32', shape, data: add }, `${ctx.name}/shift`);
  const y = ctx.emit('Mul', [x, m]);
  return [{ name: ctx.emit('Add', [y, a], {}, ctx.outName()), dtype: x.dtype, shape: x.shape }];
}

function softmax(onnxOp: 'Softmax' | 'LogSoftmax'): OpMapper {
  // TF normalises over the last axis; opset-13 Softmax(axis=-1) is exactly that.
  return (ctx) => {
    const x = ctx.input(0);
    return [{ name: ctx.emit(onnxOp, [x], { axis: attr.int(-1) }, ctx.outName()), dtype: x.dtype, shape: x.shape }];
  };
}

export const nnOps: Record<string, OpMapper> = {
  Conv2D: convLike('conv', false),
  _FusedConv2D: convLike('conv', true),
  DepthwiseConv2dNative: convLike('depthwise', false),
  DepthwiseConv2D: convLike('depthwise', false),
  FusedDepthwiseConv2dNative: convLike('depthwise', true),
  MaxPool: pool('MaxPool', false),
  MaxPoolV2: pool('MaxPool', true),
  AvgPool: pool('AveragePool', false),
  MatMul: matMul(false),
  _FusedMatMul: matMul(true),
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  Softmax: softmax('Softmax'),
  LogSoftmax: softmax('LogSoftmax'),
};
