// Constant folding for nodes whose inputs are all constants. It keeps shape arithmetic out of
// the ONNX graph and is the only way to express ops with no ONNX counterpart that appear with
// constant inputs (SparseToDense in ONNX->TF exports such as nanodet).
// Folding never grows the file much: results larger than their inputs (and > 4096 elements) are
// left to the runtime.

import type { AttrReader } from './graph-model.js';
import { tfTypeToDType } from './graph-model.js';
import { planStridedSlice, sliceIndices } from './strided-slice.js';
import {
  type ConstTensor,
  type DType,
  allocData,
  broadcastIndexer,
  broadcastStatic,
  isIntDType,
  makeTensor,
  numel,
  stridesOf,
  toNumbers,
  transposeTensor,
} from './tensor.js';

const MAX_GROWTH_ELEMENTS = 4096;

type Folder = (attrs: AttrReader, ins: ConstTensor[]) => ConstTensor[] | undefined;

function binary(fn: (a: number, b: number, int: boolean) => number): Folder {
  return (_attrs, [a, b]) => {
    if (!a || !b || a.dtype !== b.dtype) return undefined;
    if (a.dtype !== 'float32' && a.dtype !== 'int64' && a.dtype !== 'float64') return undefined;
    const shape = broadcastStatic(a.shape, b.shape);
    if (!shape) return undefined;
    const n = numel(shape);
    const ia = broadcastIndexer(shape, a.shape);
    const ib = broadcastIndexer(shape, b.shape);
    const int = isIntDType(a.dtype);
    const data = allocData(a.dtype, n);
    // Typed-array stores round to float32 once, matching single float32 TF arithmetic.
    for (let i = 0; i < n; i++) data[i] = fn(a.data[ia(i)], b.data[ib(i)], int);
    return [{ dtype: a.dtype, shape, data }];
  };
}

function castValue(v: number, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (isIntDType(to)) return Math.trunc(v);
  return v;
}

function concat(tensors: ConstTensor[], axisIn: number): ConstTensor | undefined {
  const first = tensors[0];
  if (!first || tensors.some((t) => t.dtype !== first.dtype || t.shape.length !== first.shape.length)) return undefined;
  const rank = first.shape.length;
  const axis = axisIn < 0 ? axisIn + rank : axisIn;
  if (axis < 0 || axis >= rank) return undefined;
  const shape = [...first.shape];
  shape[axis] = tensors.reduce((s, t) => s + t.shape[axis], 0);
  const outer = numel(first.shape.slice(0, axis));
  const data = allocData(first.dtype, numel(shape));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const t of tensors) {
      const chunk = numel(t.shape.slice(axis));
      for (let k = 0; k < chunk; k++) data[o++] = t.data[i * chunk + k];
    }
  }
  return { dtype: first.dtype, shape, data };
}

const FOLDERS: Record<string, Folder> = {
  Add: binary((a, b) => a + b),
  AddV2: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  RealDiv: binary((a, b, int) => (int ? Math.trunc(a / b) : a / b)),
  Div: binary((a, b, int) => (int ? Math.trunc(a / b) : a / b)),
  FloorDiv: binary((a, b) => Math.floor(a / b)),
  FloorMod: binary((a, b) => a - Math.floor(a / b) * b),
  Maximum: binary((a, b) => Math.max(a, b)),
  Minimum: binary((a, b) => Math.min(a, b)),
  Neg: (_a, [x]) => (x && x.dtype !== 'bool' ? [{ ...x, half: undefined, data: x.data.map((v) => -v) }] : undefined),
  Cast: (attrs, [x]) => {
    const to = tfTypeToDType(attrs.type('DstT'));
    if (!x || !to || to === 'float16') return undefined;
    const data = allocData(to, x.data.length);
    for (let i = 0; i < data.length; i++) data[i] = castValue(x.data[i], to);
    return [{ dtype: to, shape: [...x.shape], data }];
  },
  Reshape: (_a, [x, s]) => {
    if (!x || !s) return undefined;
    const req = toNumbers(s);
    const known = req.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const shape = req.map((d) => (d === -1 ? numel(x.shape) / known : d));
    if (numel(shape) !== numel(x.shape) || shape.some((d) => !Number.isInteger(d))) return undefined;
    return [{ ...x, shape }];
  },
  ExpandDims: (_a, [x, ax]) => {
    if (!x || !ax) return undefined;
    const rank = x.shape.length + 1;
    let axis = toNumbers(ax)[0];
    if (axis < 0) axis += rank;
    const shape = [...x.shape];
    shape.splice(axis, 0, 1);
    return [{ ...x, shape }];
  },
  Squeeze: (attrs, [x]) => {
    if (!x) return undefined;
    const axes = (attrs.ints('squeeze_dims') ?? attrs.ints('axis') ?? []).map((a) => (a < 0 ? a + x.shape.length : a));
    const shape = x.shape.filter((d, i) => (axes.length === 0 ? d !== 1 : !axes.includes(i)));
    return [{ ...x, shape }];
  },
  Pack: (attrs, ins) => {
    const axis = attrs.int('axis', 0);
    const rank = (ins[0]?.shape.length ?? 0) + 1;
    const a = axis < 0 ? axis + rank : axis;
    const expanded = ins.map((t) => {
      const shape = [...t.shape];
      shape.splice(a, 0, 1);
      return { ...t, shape };
    });
    const r = concat(expanded, a);
    return r ? [r] : undefined;
  },
  ConcatV2: (_attrs, ins) => {
    const axisT = ins[ins.length - 1];
    if (!axisT) return undefined;
    const r = concat(ins.slice(0, -1), toNumbers(axisT)[0]);
    return r ? [r] : undefined;
  },
  Transpose: (_a, [x, p]) => (x && p ? [transposeTensor({ ...x, half: undefined }, toNumbers(p))] : undefined),
  Fill: (_a, [dims, v]) => {
    if (!dims || !v) return undefined;
    const shape = toNumbers(dims);
    const data = allocData(v.dtype, numel(shape));
    data.fill(v.data[0]);
    return [{ dtype: v.dtype, shape, data }];
  },
  Range: (_a, [s, l, d]) => {
    if (!s || !l || !d) return undefined;
    const [start, limit, delta] = [s.data[0], l.data[0], d.data[0]];
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const vals = Array.from({ length: n }, (_, i) => start + i * delta);
    return [makeTensor(s.dtype, [n], vals)];
  },
  Shape: (_a, [x]) => (x ? [makeTensor('int64', [x.shape.length], x.shape)] : undefined),
  Size: (_a, [x]) => (x ? [makeTensor('int64', [], [numel(x.shape)])] : undefined),
  StridedSlice: (attrs, [x, b, e, s]) => {
    if (!x || !b || !e || !s) return undefined;
    const plan = planStridedSlice(
      toNumbers(b),
      toNumbers(e),
      toNumbers(s),
      {
        begin: attrs.int('begin_mask', 0),
        end: attrs.int('end_mask', 0),
        ellipsis: attrs.int('ellipsis_mask', 0),
        newAxis: attrs.int('new_axis_mask', 0),
        shrink: attrs.int('shrink_axis_mask', 0),
      },
      x.shape.length,
    );
    if (typeof plan === 'string') return undefined;
    const picks = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
    for (const sl of plan.slices) picks[sl.axis] = sliceIndices(x.shape[sl.axis], sl.start, sl.end, sl.step);
    const sliced = gatherGrid(x, picks);
    const shape = sliced.shape.filter((_, i) => !plan.shrinkAxes.includes(i));
    for (const p of plan.newAxes) shape.splice(p, 0, 1);
    return [{ ...sliced, shape }];
  },
  SparseToDense: (_attrs, [indices, outShape, values, dflt]) => {
    if (!indices || !outShape || !values || !dflt) return undefined;
    const shape = toNumbers(outShape);
    const data = allocData(values.dtype, numel(shape));
    data.fill(dflt.data[0]);
    const nIdx = indices.shape.length === 0 ? 1 : indices.shape[0];
    const width = indices.shape.length < 2 ? 1 : indices.shape[1];
    const strides = stridesOf(shape);
    for (let k = 0; k < nIdx; k++) {
      let off = 0;
      for (let j = 0; j < width; j++) off += indices.data[k * width + j] * strides[j];
      data[off] = values.data.length === 1 ? values.data[0] : values.data[k];
    }
    return [{ dtype: values.dtype, shape, data }];
  },
  GatherV2: (attrs, [x, idx, ax]) => {
    if (!x || !idx || !ax || attrs.int('batch_dims', 0) !== 0) return undefined;
    let axis = toNumbers(ax)[0];
    if (axis < 0) axis += x.shape.length;
    const ids = toNumbers(idx);
    const outer = numel(x.shape.slice(0, axis));
    const inner = numel(x.shape.slice(axis + 1));
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const data = allocData(x.dtype, numel(shape));
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const id of ids) {
        const base = (i * x.shape[axis] + (id < 0 ? id + x.shape[axis] : id)) * inner;
        for (let k = 0; k < inner; k++) data[o++] = x.data[base + k];
      }
    }
    return [{ dtype: x.dtype, shape, data }];
  },
};

/** Selects the cartesian product of per-axis index lists. */
function gatherGrid(x: ConstTensor, picks: number[][]): ConstTensor {
  const shape = picks.map((p) => p.length);
  const n = numel(shape);
  const data = allocData(x.dtype, n);
  const inStrides = stridesOf(x.shape);
  const outStrides = stridesOf(shape);
  for (let o = 0; o < n; o++) {
    let off = 0;
    for (let ax = 0; ax < shape.length; ax++) off += picks[ax][Math.floor(o / outStrides[ax]) % shape[ax]] * inStrides[ax];
    data[o] = x.data[off];
  }
  return { dtype: x.dtype, shape, data };
}

/** Whether the op has a folding rule (ops like SparseToDense are convertible only this way). */
export function canFold(op: string): boolean {
  return FOLDERS[op] !== undefined;
}

/** Folds a node with all-constant inputs, or returns undefined to convert it normally. */
export function tryFold(op: string, attrs: AttrReader, inputs: ConstTensor[]): ConstTensor[] | undefined {
  const folder = FOLDERS[op];
  if (!folder) return undefined;
  // String/complex constants never reach here (the weight reader rejects them).
  const out = folder(attrs, inputs);
  if (!out) return undefined;
  const inSize = inputs.reduce((s, t) => s + t.data.length, 0);
  const outSize = out.reduce((s, t) => s + numel(t.shape), 0);
  if (outSize > Math.max(MAX_GROWTH_ELEMENTS, inSize)) return undefined;
  return out;
}
