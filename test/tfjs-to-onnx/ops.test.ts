// Per-op checks: each case is a tiny TFJS graph model run in tfjs-cpu (reference) and, converted,
// in onnxruntime-node. Outputs must agree within 1e-4 relative (tighter than the model-level 1e-3:
// single ops have no error accumulation) and integer outputs exactly.

import { describe, expect, it } from 'vitest';
import { type Feed, TinyGraph, a, checkTiny, declaredShapeMismatches, floatFeed, intFeed } from './harness.js';

interface Case {
  name: string;
  build: (g: TinyGraph) => { feeds: Record<string, Feed>; outputs: string[] };
  /** Integer/boolean outputs: compare exactly. */
  exact?: boolean;
  keepFp16?: boolean;
}

const NHWC = a.s('NHWC');
const conv = (padding: string, strides = [1, 1, 1, 1], dilations = [1, 1, 1, 1], explicit: number[] = []) => ({
  padding: a.s(padding),
  strides: a.ints(strides),
  dilations: a.ints(dilations),
  data_format: NHWC,
  explicit_paddings: a.ints(explicit),
});

/** x:[1,H,W,C] input followed by one op built by `f`. */
function single(shape: number[], f: (g: TinyGraph, x: string) => string | string[], seed = 1, lo = -1, hi = 1) {
  return (g: TinyGraph) => {
    const x = g.input('x', shape);
    const out = f(g, x);
    return { feeds: { x: floatFeed(shape, seed, lo, hi) }, outputs: Array.isArray(out) ? out : [out] };
  };
}

const fusedConv = (ops: string[], extra: (g: TinyGraph) => string[] = () => [], padding = 'SAME', strides = [1, 2, 2, 1], depthwise = false): Case => ({
  name: `${depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D'}[${ops.join('+')}] ${padding}`,
  build: single([1, 9, 9, 3], (g, x) => {
    const w = depthwise ? g.randomConst([3, 3, 3, 2], 2) : g.randomConst([3, 3, 3, 4], 2);
    const bias = g.randomConst([depthwise ? 6 : 4], 3);
    const args = [bias, ...extra(g)];
    return g.node(depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', [x, w, ...args], {
      ...conv(padding, strides),
      fused_ops: a.strs(ops),
      num_args: a.i(args.length),
      epsilon: a.f(0),
      leakyrelu_alpha: a.f(0.15),
    });
  }),
});

const unary = (op: string, lo = -2, hi = 2, attrs = {}): Case => ({
  name: op,
  build: single([2, 3, 4], (g, x) => g.node(op, [x], attrs), 5, lo, hi),
});

const binary = (op: string, bShape = [4], lo = -2, hi = 2): Case => ({
  name: `${op} (broadcast ${bShape.join('x')})`,
  build: (g) => {
    const x = g.input('x', [2, 3, 4]);
    const y = g.input('y', bShape);
    return { feeds: { x: floatFeed([2, 3, 4], 7, lo, hi), y: floatFeed(bShape, 8, lo, hi) }, outputs: [g.node(op, [x, y])] };
  },
});

const slice = (name: string, begin: number[], end: number[], strides: number[], masks: Partial<Record<'begin_mask' | 'end_mask' | 'ellipsis_mask' | 'new_axis_mask' | 'shrink_axis_mask', number>>): Case => ({
  name: `StridedSlice ${name}`,
  build: single([2, 5, 6, 3], (g, x) =>
    g.node('StridedSlice', [x, g.ints(begin), g.ints(end), g.ints(strides)], {
      Index: a.type('DT_INT32'),
      begin_mask: a.i(masks.begin_mask ?? 0),
      end_mask: a.i(masks.end_mask ?? 0),
      ellipsis_mask: a.i(masks.ellipsis_mask ?? 0),
      new_axis_mask: a.i(masks.new_axis_mask ?? 0),
      shrink_axis_mask: a.i(masks.shrink_axis_mask ?? 0),
    }),
  ),
});

const resize = (op: string, size: number[], alignCorners: boolean, halfPixel: boolean): Case => ({
  name: `${op} ${size.join('x')} align_corners=${alignCorners} half_pixel=${halfPixel}`,
  build: single([1, 5, 7, 2], (g, x) => g.node(op, [x, g.ints(size)], { align_corners: a.b(alignCorners), half_pixel_centers: a.b(halfPixel) })),
});

const CASES: Case[] = [
  // ---- convolutions ----
  { name: 'Conv2D SAME stride 1', build: single([1, 7, 7, 3], (g, x) => g.node('Conv2D', [x, g.randomConst([3, 3, 3, 4], 2)], conv('SAME'))) },
  { name: 'Conv2D SAME stride 2, even input (asymmetric pad)', build: single([1, 8, 8, 3], (g, x) => g.node('Conv2D', [x, g.randomConst([3, 3, 3, 4], 2)], conv('SAME', [1, 2, 2, 1]))) },
  { name: 'Conv2D SAME 4x4 kernel stride 3', build: single([1, 10, 11, 2], (g, x) => g.node('Conv2D', [x, g.randomConst([4, 4, 2, 3], 2)], conv('SAME', [1, 3, 3, 1]))) },
  { name: 'Conv2D VALID stride 2', build: single([1, 9, 8, 3], (g, x) => g.node('Conv2D', [x, g.randomConst([3, 2, 3, 5], 2)], conv('VALID', [1, 2, 2, 1]))) },
  { name: 'Conv2D EXPLICIT', build: single([1, 6, 6, 2], (g, x) => g.node('Conv2D', [x, g.randomConst([3, 3, 2, 3], 2)], conv('EXPLICIT', [1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 2, 2, 0, 0, 0]))) },
  { name: 'Conv2D SAME dilation 2', build: single([1, 9, 9, 2], (g, x) => g.node('Conv2D', [x, g.randomConst([3, 3, 2, 3], 2)], conv('SAME', [1, 1, 1, 1], [1, 2, 2, 1]))) },
  {
    name: 'Conv2D SAME on unknown spatial dims (auto_pad path), batch 2',
    build: (g) => {
      const x = g.input('x', [-1, -1, -1, 3]);
      const y = g.node('Conv2D', [x, g.randomConst([3, 3, 3, 2], 2)], conv('SAME', [1, 2, 2, 1]));
      return { feeds: { x: floatFeed([2, 8, 7, 3], 4) }, outputs: [y] };
    },
  },
  {
    name: 'Conv2D SAME dilation 2 + MaxPool SAME on unknown spatial dims (auto_pad path)',
    build: (g) => {
      const x = g.input('x', [1, -1, -1, 2]);
      const c = g.node('Conv2D', [x, g.randomConst([3, 3, 2, 3], 2)], conv('SAME', [1, 1, 1, 1], [1, 2, 2, 1]));
      const p = g.node('MaxPool', [c], { ksize: a.ints([1, 3, 3, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('SAME'), data_format: NHWC });
      return { feeds: { x: floatFeed([1, 9, 8, 2], 4) }, outputs: [c, p] };
    },
  },
  {
    name: 'Conv2D / DepthwiseConv2dNative with run-time filters',
    build: (g) => {
      const x = g.input('x', [1, 6, 6, 2]);
      const w = g.input('w', [3, 3, 2, 4]);
      const dw = g.input('dw', [3, 3, 2, 2]);
      const c = g.node('Conv2D', [x, w], conv('SAME', [1, 2, 2, 1]));
      const d = g.node('DepthwiseConv2dNative', [x, dw], conv('VALID'));
      return { feeds: { x: floatFeed([1, 6, 6, 2], 1), w: floatFeed([3, 3, 2, 4], 2), dw: floatFeed([3, 3, 2, 2], 3) }, outputs: [c, d] };
    },
  },
  {
    // tfjs reads NCHW strides at NHWC positions and runs NCHW depthwise/BiasAdd as NHWC, so it
    // can only referee plain convs with unit strides; the converter follows TF semantics.
    name: 'NCHW data_format: Conv2D, _FusedConv2D[BiasAdd+Relu]',
    build: single([1, 3, 7, 6], (g, x) => {
      const nchw = { data_format: a.s('NCHW') };
      const c = g.node('Conv2D', [x, g.randomConst([3, 3, 3, 4], 2)], { ...conv('SAME'), ...nchw });
      const f = g.node('_FusedConv2D', [x, g.randomConst([1, 1, 3, 5], 5), g.randomConst([5], 6)], { ...conv('VALID'), ...nchw, fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.i(1) });
      return [c, f];
    }),
  },
  { name: 'DepthwiseConv2dNative SAME multiplier 2 stride 2', build: single([1, 8, 8, 3], (g, x) => g.node('DepthwiseConv2dNative', [x, g.randomConst([3, 3, 3, 2], 2)], conv('SAME', [1, 2, 2, 1]))) },
  { name: 'DepthwiseConv2dNative VALID', build: single([1, 6, 6, 4], (g, x) => g.node('DepthwiseConv2dNative', [x, g.randomConst([5, 5, 4, 1], 2)], conv('VALID'))) },
  fusedConv(['BiasAdd']),
  fusedConv(['BiasAdd', 'Relu']),
  fusedConv(['BiasAdd', 'Relu6'], () => [], 'VALID'),
  fusedConv(['BiasAdd', 'Elu']),
  fusedConv(['BiasAdd', 'Sigmoid']),
  fusedConv(['BiasAdd', 'LeakyRelu']),
  fusedConv(['BiasAdd', 'Prelu'], (g) => [g.randomConst([4], 9, false, 0, 0.5)]),
  fusedConv(['BiasAdd', 'Prelu'], (g) => [g.randomConst([1, 1, 4], 9, false, 0, 0.5)], 'VALID', [1, 1, 1, 1]),
  fusedConv(['BiasAdd'], () => [], 'SAME', [1, 1, 1, 1], true),
  fusedConv(['BiasAdd', 'Relu6'], () => [], 'SAME', [1, 2, 2, 1], true),
  fusedConv(['BiasAdd', 'Relu'], () => [], 'VALID', [1, 1, 1, 1], true),
  {
    name: '_FusedConv2D with fp16 weights kept as float16 + Cast',
    build: single([1, 8, 8, 16], (g, x) =>
      g.node('_FusedConv2D', [x, g.randomConst([3, 3, 16, 16], 2, true), g.randomConst([16], 3, true)], { ...conv('SAME'), fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.i(1) }),
    ),
  },
  // ---- pooling ----
  { name: 'MaxPool SAME 3x3 stride 2', build: single([1, 8, 7, 2], (g, x) => g.node('MaxPool', [x], { ksize: a.ints([1, 3, 3, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('SAME'), data_format: NHWC })) },
  { name: 'MaxPool VALID 2x2', build: single([1, 7, 7, 2], (g, x) => g.node('MaxPool', [x], { ksize: a.ints([1, 2, 2, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('VALID'), data_format: NHWC })) },
  { name: 'AvgPool SAME (padding excluded from the mean)', build: single([1, 7, 6, 2], (g, x) => g.node('AvgPool', [x], { ksize: a.ints([1, 3, 3, 1]), strides: a.ints([1, 2, 2, 1]), padding: a.s('SAME'), data_format: NHWC })) },
  // ---- matrix products ----
  { name: 'MatMul', build: single([3, 5], (g, x) => g.node('MatMul', [x, g.randomConst([5, 4], 2)], { transpose_a: a.b(false), transpose_b: a.b(false) })) },
  {
    name: '_FusedMatMul[BiasAdd+Relu] transpose_b',
    build: single([3, 5], (g, x) =>
      g.node('_FusedMatMul', [x, g.randomConst([4, 5], 2), g.randomConst([4], 3)], { transpose_a: a.b(false), transpose_b: a.b(true), fused_ops: a.strs(['BiasAdd', 'Relu']), num_args: a.i(1) }),
    ),
  },
  {
    name: '_FusedMatMul[BiasAdd+Prelu]',
    build: single([3, 5], (g, x) =>
      g.node('_FusedMatMul', [x, g.randomConst([5, 4], 2), g.randomConst([4], 3), g.randomConst([4], 4, false, 0, 0.3)], {
        transpose_a: a.b(false),
        transpose_b: a.b(false),
        fused_ops: a.strs(['BiasAdd', 'Prelu']),
        num_args: a.i(2),
      }),
    ),
  },
  { name: 'BatchMatMulV2 adj_y', build: single([2, 3, 5], (g, x) => g.node('BatchMatMulV2', [x, g.randomConst([2, 4, 5], 2)], { adj_x: a.b(false), adj_y: a.b(true) })) },
  // ---- element-wise ----
  binary('Add'),
  binary('AddV2', [3, 1]),
  binary('Sub'),
  binary('Mul', [1, 4]),
  binary('RealDiv', [4], 0.5, 2),
  binary('Maximum'),
  binary('Minimum', [3, 4]),
  binary('SquaredDifference'),
  binary('Pow', [4], 0.5, 2),
  { name: 'BiasAdd', build: single([2, 3, 4], (g, x) => g.node('BiasAdd', [x, g.randomConst([4], 2)], { data_format: NHWC })) },
  { name: 'AddN', build: single([2, 3], (g, x) => g.node('AddN', [x, g.randomConst([2, 3], 2), g.randomConst([2, 3], 3)], { N: a.i(3) })) },
  unary('Relu'),
  unary('Relu6', -3, 9),
  unary('Elu'),
  unary('Selu'),
  unary('Sigmoid'),
  unary('Tanh'),
  unary('Abs'),
  unary('Neg'),
  unary('Exp'),
  unary('Log', 0.1, 3),
  unary('Sqrt', 0.1, 3),
  unary('Rsqrt', 0.1, 3),
  unary('Square'),
  unary('Reciprocal', 0.5, 3),
  unary('Floor'),
  unary('Ceil'),
  unary('Sin'),
  unary('Cos'),
  unary('Softplus'),
  unary('LeakyRelu', -2, 2, { alpha: a.f(0.1) }),
  { name: 'Prelu', build: single([2, 3, 4], (g, x) => g.node('Prelu', [x, g.randomConst([4], 2, false, 0, 0.5)])) },
  unary('Softmax'),
  unary('LogSoftmax'),
  { name: 'ClipByValue', build: single([2, 3], (g, x) => g.node('ClipByValue', [x, g.const([-0.5], []), g.const([0.25], [])])) },
  {
    name: 'FusedBatchNormV3 (inference)',
    build: single([1, 3, 3, 4], (g, x) =>
      g.node('FusedBatchNormV3', [x, g.randomConst([4], 2), g.randomConst([4], 3), g.randomConst([4], 4), g.randomConst([4], 5, false, 0.5, 2)], { epsilon: a.f(0.001), data_format: NHWC, is_training: a.b(false) }),
    ),
  },
  {
    name: 'FloorDiv / FloorMod on int32 with negative operands',
    exact: true,
    build: (g) => {
      const x = g.input('x', [6], 'int32');
      const d = g.ints([3, -3, 4, -4, 5, 2]);
      const fd = g.node('FloorDiv', [x, d], { T: a.type('DT_INT32') });
      const fm = g.node('FloorMod', [x, d], { T: a.type('DT_INT32') });
      return { feeds: { x: intFeed([-7, 7, -9, 10, 0, -1], [6]) }, outputs: [fd, fm] };
    },
  },
  {
    name: 'FloorDiv / FloorMod on floats',
    build: single([6], (g, x) => [g.node('FloorDiv', [x, g.const([0.7], [])]), g.node('FloorMod', [x, g.const([-0.7], [])])], 3, -3, 3),
  },
  {
    name: 'Cast float -> int32 (truncation) and bool -> float',
    exact: true,
    build: single([8], (g, x) => {
      const i = g.node('Cast', [x], { SrcT: a.type('DT_FLOAT'), DstT: a.type('DT_INT32') });
      const gt = g.node('Greater', [x, g.const([0], [])]);
      const f = g.node('Cast', [gt], { SrcT: a.type('DT_BOOL'), DstT: a.type('DT_FLOAT') });
      return [i, f];
    }, 3, -5, 5),
  },
  {
    name: 'comparisons, logic and Select',
    build: (g) => {
      const x = g.input('x', [2, 4]);
      const y = g.input('y', [2, 4]);
      const lt = g.node('Less', [x, y]);
      const ge = g.node('GreaterEqual', [x, g.const([0], [])]);
      const and = g.node('LogicalAnd', [lt, ge]);
      const eq = g.node('Equal', [x, x]);
      const or = g.node('LogicalOr', [and, g.node('LogicalNot', [eq])]);
      const sel = g.node('SelectV2', [or, x, y]);
      const ne = g.node('NotEqual', [x, y]);
      const selNe = g.node('SelectV2', [ne, y, x]);
      return { feeds: { x: floatFeed([2, 4], 11), y: floatFeed([2, 4], 12) }, outputs: [sel, selNe] };
    },
  },
  // ---- reductions ----
  { name: 'Mean over H,W (keep_dims false)', build: single([2, 3, 4, 5], (g, x) => g.node('Mean', [x, g.ints([1, 2])], { keep_dims: a.b(false), Tidx: a.type('DT_INT32') })) },
  { name: 'Mean keep_dims true', build: single([2, 3, 4, 5], (g, x) => g.node('Mean', [x, g.ints([-1])], { keep_dims: a.b(true) })) },
  { name: 'Max / Min / Prod / Sum', build: single([2, 3, 4], (g, x) => ['Max', 'Min', 'Prod', 'Sum'].map((op) => g.node(op, [x, g.ints([1])], { keep_dims: a.b(false) }))) },
  { name: 'ArgMax', exact: true, build: single([3, 7], (g, x) => g.node('ArgMax', [x, g.scalarInt(1)], { output_type: a.type('DT_INT32') })) },
  {
    name: 'TopKV2 values and indices',
    build: single([2, 10], (g, x) => {
      const t = g.node('TopKV2', [x, g.scalarInt(4)], { sorted: a.b(true) });
      return [t, `${t}:1`];
    }),
  },
  // ---- shape ops ----
  { name: 'Reshape with -1', build: single([2, 3, 4], (g, x) => g.node('Reshape', [x, g.ints([-1, 6])])) },
  { name: 'Transpose', build: single([2, 3, 4], (g, x) => g.node('Transpose', [x, g.ints([2, 0, 1])])) },
  { name: 'ConcatV2 axis -1', build: single([2, 3], (g, x) => g.node('ConcatV2', [x, g.randomConst([2, 2], 2), g.scalarInt(-1)], { N: a.i(2) })) },
  { name: 'Pack axis 1', build: single([2, 3], (g, x) => g.node('Pack', [x, g.randomConst([2, 3], 2), x], { axis: a.i(1), N: a.i(3) })) },
  {
    name: 'Unpack axis 1',
    build: single([2, 3, 2], (g, x) => {
      const u = g.node('Unpack', [x], { axis: a.i(1), num: a.i(3) });
      return [u, `${u}:1`, `${u}:2`];
    }),
  },
  { name: 'ExpandDims -1 then Squeeze', build: single([2, 3], (g, x) => g.node('Squeeze', [g.node('ExpandDims', [x, g.scalarInt(-1)])], { squeeze_dims: a.ints([2]) })) },
  slice('begin/end masks', [0, 1, 0, 0], [0, 4, 0, 0], [1, 2, 1, 1], { begin_mask: 0b1101, end_mask: 0b1101 }),
  slice('negative indices and stride', [0, -1, 5, 0], [0, 0, 0, 0], [1, -2, -1, 1], { begin_mask: 0b1001, end_mask: 0b1011 }),
  slice('shrink axes incl. -1', [0, -1, 2], [0, 0, 3], [1, 1, 1], { begin_mask: 0b001, end_mask: 0b001, shrink_axis_mask: 0b110 }),
  slice('ellipsis + new axis', [0, 0, 1], [0, 0, 3], [1, 1, 1], { ellipsis_mask: 0b001, new_axis_mask: 0b010 }),
  slice('implicit trailing dims', [1], [2], [1], {}),
  { name: 'Slice with size -1', build: single([3, 5, 4], (g, x) => g.node('Slice', [x, g.ints([1, 0, 2]), g.ints([-1, 3, -1])])) },
  { name: 'Pad', build: single([1, 3, 3, 2], (g, x) => g.node('Pad', [x, g.ints([0, 0, 1, 2, 2, 0, 0, 0], [4, 2])])) },
  { name: 'PadV2 with constant', build: single([1, 3, 3, 2], (g, x) => g.node('PadV2', [x, g.ints([0, 0, 1, 1, 1, 1, 0, 0], [4, 2]), g.const([-3], [])])) },
  { name: 'MirrorPad REFLECT', build: single([1, 4, 4, 2], (g, x) => g.node('MirrorPad', [x, g.ints([0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], { mode: a.s('REFLECT') })) },
  {
    name: 'SplitV with -1 / Split',
    build: single([2, 7], (g, x) => {
      const s = g.node('SplitV', [x, g.ints([2, -1, 1]), g.scalarInt(1)], { num_split: a.i(3) });
      const s2 = g.node('Split', [g.scalarInt(0), x], { num_split: a.i(2) });
      return [s, `${s}:1`, `${s}:2`, `${s2}:1`];
    }),
  },
  { name: 'GatherV2 axis 1', build: single([2, 5, 3], (g, x) => g.node('GatherV2', [x, g.ints([4, 0, 2, 2]), g.scalarInt(1)], { batch_dims: a.i(0) })) },
  { name: 'Tile', build: single([2, 3], (g, x) => g.node('Tile', [x, g.ints([2, 3])])) },
  { name: 'DepthToSpace block 2', build: single([1, 3, 4, 8], (g, x) => g.node('DepthToSpace', [x], { block_size: a.i(2), data_format: NHWC })) },
  {
    name: 'dynamic batch: Shape -> StridedSlice -> Pack -> Reshape, Fill, ZerosLike',
    build: (g) => {
      const x = g.input('x', [-1, 4, 3]);
      const shp = g.node('Shape', [x], { out_type: a.type('DT_INT32') });
      const n = g.node('StridedSlice', [shp, g.ints([0]), g.ints([1]), g.ints([1])], { shrink_axis_mask: a.i(1), begin_mask: a.i(0), end_mask: a.i(0), ellipsis_mask: a.i(0), new_axis_mask: a.i(0) });
      const target = g.node('Pack', [n, g.scalarInt(12)], { axis: a.i(0), N: a.i(2) });
      const r = g.node('Reshape', [x, target]);
      const filled = g.node('Fill', [target, g.const([2.5], [])]);
      const z = g.node('ZerosLike', [x]);
      return { feeds: { x: floatFeed([3, 4, 3], 4) }, outputs: [r, filled, z] };
    },
  },
  {
    name: 'SparseToDense / Range / Shape on constants are folded',
    build: single([4], (g, x) => {
      const dense = g.node('SparseToDense', [g.ints([1, 3], [2, 1]), g.ints([4]), g.const([2, 5], [2]), g.const([0.5], [])], { validate_indices: a.b(true), Tindices: a.type('DT_INT32') });
      const r = g.node('Range', [g.const([0], []), g.const([4], []), g.const([1], [])], { Tidx: a.type('DT_FLOAT') });
      return g.node('AddV2', [g.node('Mul', [x, dense]), r]);
    }),
  },
  // ---- image ----
  resize('ResizeBilinear', [10, 14], false, false),
  resize('ResizeBilinear', [9, 4], false, true),
  resize('ResizeBilinear', [8, 12], true, false),
  resize('ResizeNearestNeighbor', [10, 14], false, false),
  resize('ResizeNearestNeighbor', [11, 5], false, true),
  resize('ResizeNearestNeighbor', [8, 12], true, false),
];

describe('tfjs-to-onnx: single ops match tfjs-cpu', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const g = new TinyGraph();
    const { feeds, outputs } = c.build(g);
    const { diffs, ref, got, bytes } = await checkTiny(g, feeds, outputs, { keepFp16: c.keepFp16 ?? true });
    expect(declaredShapeMismatches(bytes, outputs, got)).toEqual([]);
    diffs.forEach((d, i) => {
      if (c.exact) expect(Array.from(got[i].data)).toEqual(Array.from(ref[i].data));
      expect(d.rel, `output ${outputs[i]}: max abs ${d.maxAbs} (max |ref| ${d.maxRef})`).toBeLessThanOrEqual(1e-4);
    });
  });
});
