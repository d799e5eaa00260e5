// Shape and data-movement ops: reshape, transpose, concat, slicing, padding, gather, split, ...

import type { OpContext, OpMapper, Val } from '../context.js';
import { type Dim, attr } from '../onnx-builder.js';
import { normAxis, permuteDims } from '../shapes.js';
import { planStridedSlice, SLICE_MAX } from '../strided-slice.js';
import { numel, toNumbers } from '../tensor.js';
import { constAxes } from './common.js';

function reshape(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const s = ctx.input(1);
  let shape: Dim[] | undefined;
  if (s.const) {
    const req = toNumbers(s.const);
    // ONNX Reshape reads 0 as "copy this dim"; TF means an empty dim. Refuse rather than differ.
    if (req.includes(0)) ctx.fail('target shape contains 0 (empty tensor)');
    shape = req.map((d) => (d === -1 ? null : d));
    const xs = x.shape;
    if (xs && req.includes(-1)) {
      const known = xs.every((d) => typeof d === 'number');
      if (known) {
        const total = numel(xs as number[]);
        const rest = req.reduce((p, d) => (d === -1 ? p : p * d), 1);
        shape = req.map((d) => (d === -1 ? total / rest : d));
      } else if (xs[0] === 'N' && req[0] === -1 && xs.length > 1) {
        // Common case: batch kept, the rest flattened from static dims.
        const restIn = xs.slice(1);
        if (restIn.every((d) => typeof d === 'number') && numel(restIn as number[]) === numel(req.slice(1))) shape = ['N', ...req.slice(1)];
      }
    }
  }
  return [{ name: ctx.emit('Reshape', [x, s], {}, ctx.outName()), dtype: x.dtype, shape }];
}

function transpose(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const perm = constAxes(ctx, 1, 'perm');
  const out = ctx.emit('Transpose', [x], { perm: attr.ints(perm) }, ctx.outName());
  return [{ name: out, dtype: x.dtype, shape: permuteDims(x.shape, perm) }];
}

function concatShape(ins: Val[], axis: number): Dim[] | undefined {
  const first = ins[0].shape;
  if (!first || ins.some((v) => v.shape?.length !== first.length)) return undefined;
  const a = normAxis(axis, first.length);
  const out = [...first];
  let sum: Dim = 0;
  for (const v of ins) {
    const d = (v.shape as Dim[])[a];
    sum = typeof sum === 'number' && typeof d === 'number' ? sum + d : null;
  }
  out[a] = sum;
  return out;
}

function concatV2(ctx: OpContext): Val[] {
  const n = ctx.inputCount - 1;
  const axis = constAxes(ctx, n, 'axis')[0];
  const ins = Array.from({ length: n }, (_, i) => ctx.input(i));
  if (ins.length === 1) return [ins[0]];
  const out = ctx.emit('Concat', ins, { axis: attr.int(axis) }, ctx.outName());
  return [{ name: out, dtype: ins[0].dtype, shape: concatShape(ins, axis) }];
}

function concatV1(ctx: OpContext): Val[] {
  // TF1 'Concat' puts the axis first.
  const axis = constAxes(ctx, 0, 'concat_dim')[0];
  const ins = Array.from({ length: ctx.inputCount - 1 }, (_, i) => ctx.input(i + 1));
  const out = ctx.emit('Concat', ins, { axis: attr.int(axis) }, ctx.outName());
  return [{ name: out, dtype: ins[0].dtype, shape: concatShape(ins, axis) }];
}

function insertDim(shape: Dim[] | undefined, axis: number): Dim[] | undefined {
  if (!shape) return undefined;
  const out = [...shape];
  out.splice(normAxis(axis, shape.length + 1), 0, 1);
  return out;
}

function pack(ctx: OpContext): Val[] {
  const axis = ctx.attrs.int('axis', 0);
  const ins = Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i));
  // Negative axes count from the output rank in both TF Pack and ONNX Unsqueeze/Concat.
  const axes = ctx.int64s([axis]);
  const parts = ins.map((v) => ctx.emit('Unsqueeze', [v, axes]));
  const out = parts.length === 1 ? ctx.emit('Identity', parts, {}, ctx.outName()) : ctx.emit('Concat', parts, { axis: attr.int(axis) }, ctx.outName());
  const s = insertDim(ins[0].shape, axis);
  if (s) s[normAxis(axis, s.length)] = ins.length;
  return [{ name: out, dtype: ins[0].dtype, shape: s }];
}

function unpack(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const num = ctx.attrs.int('num', 0);
  const axis = ctx.attrs.int('axis', 0);
  if (num <= 0) ctx.fail('num must be positive');
  const parts = Array.from({ length: num }, (_, i) => ctx.tmp(`part${i}`));
  ctx.emitMulti('Split', [x], parts, { axis: attr.int(axis) });
  const axes = ctx.int64s([axis]);
  const shape = x.shape ? x.shape.filter((_, i) => i !== normAxis(axis, x.shape?.length ?? 0)) : undefined;
  return parts.map((p, i) => ({ name: ctx.emit('Squeeze', [p, axes], {}, ctx.outName(i)), dtype: x.dtype, shape }));
}

function expandDims(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const axis = constAxes(ctx, 1)[0];
  const out = ctx.emit('Unsqueeze', [x, ctx.int64s([axis])], {}, ctx.outName());
  return [{ name: out, dtype: x.dtype, shape: insertDim(x.shape, axis) }];
}

function squeeze(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const axes = ctx.attrs.ints('squeeze_dims') ?? ctx.attrs.ints('axis') ?? [];
  let shape: Dim[] | undefined;
  if (x.shape) {
    const r = x.shape.length;
    const norm = axes.map((a) => normAxis(a, r));
    shape = axes.length > 0 ? x.shape.filter((_, i) => !norm.includes(i)) : x.shape.every((d) => d !== null && typeof d === 'number') ? x.shape.filter((d) => d !== 1) : undefined;
  }
  const ins: (Val | string)[] = axes.length > 0 ? [x, ctx.int64s(axes)] : [x];
  return [{ name: ctx.emit('Squeeze', ins, {}, ctx.outName()), dtype: x.dtype, shape }];
}

function stridedSlice(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const begin = constAxes(ctx, 1, 'begin');
  const end = constAxes(ctx, 2, 'end');
  const strides = constAxes(ctx, 3, 'strides');
  const plan = planStridedSlice(
    begin,
    end,
    strides,
    {
      begin: ctx.attrs.int('begin_mask', 0),
      end: ctx.attrs.int('end_mask', 0),
      ellipsis: ctx.attrs.int('ellipsis_mask', 0),
      newAxis: ctx.attrs.int('new_axis_mask', 0),
      shrink: ctx.attrs.int('shrink_axis_mask', 0),
    },
    x.shape?.length,
  );
  if (typeof plan === 'string') return ctx.fail(plan);
  const steps: { op: string; run: (input: string, out?: string) => string }[] = [];
  let shape: Dim[] | undefined = x.shape ? [...x.shape] : undefined;
  if (plan.slices.length > 0) {
    const s = plan.slices;
    steps.push({
      op: 'Slice',
      run: (input, out) =>
        ctx.emit(
          'Slice',
          [input, ctx.int64s(s.map((d) => d.start)), ctx.int64s(s.map((d) => d.end)), ctx.int64s(s.map((d) => d.axis)), ctx.int64s(s.map((d) => d.step))],
          {},
          out,
        ),
    });
    if (shape) {
      for (const d of s) {
        const dim = shape[d.axis];
        if (d.shrink) shape[d.axis] = 1;
        else if (typeof dim === 'number') {
          const st = d.start < 0 ? Math.max(d.start + dim, d.step > 0 ? 0 : -1) : Math.min(d.start, d.step > 0 ? dim : dim - 1);
          const en = d.end < 0 ? Math.max(d.end + dim, d.step > 0 ? 0 : -1) : Math.min(d.end, d.step > 0 ? dim : dim - 1);
          shape[d.axis] = Math.max(Math.ceil((en - st) / d.step), 0);
        } else shape[d.axis] = null;
      }
    }
  }
  if (plan.shrinkAxes.length > 0) {
    steps.push({ op: 'Squeeze', run: (input, out) => ctx.emit('Squeeze', [input, ctx.int64s(plan.shrinkAxes)], {}, out) });
    if (shape) shape = shape.filter((_, i) => !plan.shrinkAxes.includes(i));
  }
  if (plan.newAxes.length > 0) {
    steps.push({ op: 'Unsqueeze', run: (input, out) => ctx.emit('Unsqueeze', [input, ctx.int64s(plan.newAxes)], {}, out) });
    if (shape) for (const p of plan.newAxes) shape.splice(p, 0, 1);
  }
  if (steps.length === 0) return [x];
  let cur = ctx.use(x);
  steps.forEach((s, i) => {
    cur = s.run(cur, i === steps.length - 1 ? ctx.outName() : undefined);
  });
  return [{ name: cur, dtype: x.dtype, shape }];
}

function slice(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const begin = constAxes(ctx, 1, 'begin');
  const size = constAxes(ctx, 2, 'size');
  const ends = begin.map((b, i) => (size[i] === -1 ? SLICE_MAX : b + size[i]));
  const axes = begin.map((_, i) => i);
  const out = ctx.emit('Slice', [x, ctx.int64s(begin), ctx.int64s(ends), ctx.int64s(axes)], {}, ctx.outName());
  const shape = x.shape?.map((d, i) => (i < size.length ? (size[i] === -1 ? (typeof d === 'number' ? d - begin[i] : null) : size[i]) : d));
  return [{ name: out, dtype: x.dtype, shape }];
}

function pad(mode: 'constant' | 'mirror') {
  return (ctx: OpContext): Val[] => {
    const x = ctx.input(0);
    const p = ctx.input(1);
    let pads: Val | string;
    let shape: Dim[] | undefined;
    if (p.const) {
      // TF [[b0,e0],[b1,e1],...] -> ONNX [b0,b1,...,e0,e1,...]
      const v = toNumbers(p.const);
      const r = v.length / 2;
      pads = ctx.int64s([...Array.from({ length: r }, (_, i) => v[2 * i]), ...Array.from({ length: r }, (_, i) => v[2 * i + 1])]);
      shape = x.shape?.map((d, i) => (typeof d === 'number' ? d + v[2 * i] + v[2 * i + 1] : d === 'N' && v[2 * i] + v[2 * i + 1] === 0 ? d : null));
    } else {
      const t = ctx.emit('Transpose', [p], { perm: attr.ints([1, 0]) });
      pads = ctx.emit('Reshape', [t, ctx.int64s([-1])]);
    }
    const ins: (Val | string)[] = [x, pads];
    let modeAttr = 'constant';
    if (mode === 'constant' && ctx.inputCount > 2) ins.push(ctx.input(2));
    if (mode === 'mirror') {
      const m = ctx.attrs.string('mode') ?? 'REFLECT';
      // ONNX 'edge' repeats the border pixel; TF SYMMETRIC mirrors including it: not the same.
      if (m !== 'REFLECT') ctx.fail(`MirrorPad mode ${m}`);
      modeAttr = 'reflect';
    }
    return [{ name: ctx.emit('Pad', ins, { mode: attr.string(modeAttr) }, ctx.outName()), dtype: x.dtype, shape }];
  };
}

function splitOutputs(ctx: OpContext, x: Val, axis: number, sizes: number[] | undefined, count: number): Val[] {
  const outs = Array.from({ length: count }, (_, i) => ctx.outName(i));
  const ins: (Val | string)[] = [x];
  if (sizes) ins.push(ctx.int64s(sizes));
  ctx.emitMulti('Split', ins, outs, { axis: attr.int(axis) });
  return outs.map((name, i) => {
    let shape: Dim[] | undefined;
    if (x.shape) {
      shape = [...x.shape];
      const a = normAxis(axis, shape.length);
      const d = shape[a];
      shape[a] = sizes ? sizes[i] : typeof d === 'number' ? d / count : null;
    }
    return { name, dtype: x.dtype, shape };
  });
}

function splitV(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  let sizes = constAxes(ctx, 1, 'size_splits');
  const axis = constAxes(ctx, 2, 'split_dim')[0];
  const neg = sizes.indexOf(-1);
  if (neg >= 0) {
    const d = x.shape?.[normAxis(axis, x.shape.length)];
    if (typeof d !== 'number') ctx.fail('size_splits with -1 needs a static dim');
    const rest = sizes.reduce((s, v) => (v === -1 ? s : s + v), 0);
    sizes = sizes.map((v) => (v === -1 ? (d as number) - rest : v));
  }
  return splitOutputs(ctx, x, axis, sizes, sizes.length);
}

function split(ctx: OpContext): Val[] {
  const axis = constAxes(ctx, 0, 'split_dim')[0];
  const x = ctx.input(1);
  return splitOutputs(ctx, x, axis, undefined, ctx.attrs.int('num_split', 1));
}

function gatherV2(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const idx = ctx.input(1);
  const axis = ctx.inputCount > 2 ? constAxes(ctx, 2)[0] : 0;
  if (ctx.attrs.int('batch_dims', 0) !== 0) ctx.fail('batch_dims != 0');
  let shape: Dim[] | undefined;
  if (x.shape && idx.shape) {
    const a = normAxis(axis, x.shape.length);
    shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  }
  return [{ name: ctx.emit('Gather', [x, idx], { axis: attr.int(axis) }, ctx.outName()), dtype: x.dtype, shape }];
}

function gatherNd(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const idx = ctx.input(1);
  return [{ name: ctx.emit('GatherND', [x, idx], {}, ctx.outName()), dtype: x.dtype }];
}

function shapeOp(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const s = x.shape;
  // A fully static shape is a constant: keeps downstream shape arithmetic foldable.
  if (s && s.every((d) => typeof d === 'number')) return [ctx.int64s(s as number[])];
  return [{ name: ctx.emit('Shape', [x], {}, ctx.outName()), dtype: 'int64', shape: s ? [s.length] : [null] }];
}

function sizeOp(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  return [{ name: ctx.emit('Size', [x], {}, ctx.outName()), dtype: 'int64', shape: [] }];
}

function fill(ctx: OpContext): Val[] {
  const dims = ctx.input(0);
  const value = ctx.input(1);
  const shape = dims.const ? toNumbers(dims.const) : undefined;
  return [{ name: ctx.emit('Expand', [value, dims], {}, ctx.outName()), dtype: value.dtype, shape }];
}

function broadcastTo(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const dims = ctx.input(1);
  const shape = dims.const ? toNumbers(dims.const) : undefined;
  return [{ name: ctx.emit('Expand', [x, dims], {}, ctx.outName()), dtype: x.dtype, shape }];
}

function range(ctx: OpContext): Val[] {
  const s = ctx.input(0);
  return [{ name: ctx.emit('Range', [s, ctx.input(1), ctx.input(2)], {}, ctx.outName()), dtype: s.dtype, shape: [null] }];
}

function tile(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const reps = ctx.input(1);
  let shape: Dim[] | undefined;
  if (x.shape && reps.const) {
    const r = toNumbers(reps.const);
    shape = x.shape.map((d, i) => (typeof d === 'number' ? d * r[i] : r[i] === 1 ? d : null));
  }
  return [{ name: ctx.emit('Tile', [x, reps], {}, ctx.outName()), dtype: x.dtype, shape }];
}

function where(ctx: OpContext): Val[] {
  // Where(cond) lists coordinates: ONNX NonZero gives them transposed ([rank, n]).
  const x = ctx.input(0);
  const nz = ctx.emit('NonZero', [x]);
  const out = ctx.emit('Transpose', [nz], { perm: attr.ints([1, 0]) }, ctx.outName());
  return [{ name: out, dtype: 'int64', shape: [null, x.shape ? x.shape.length : null] }];
}

function depthToSpace(ctx: OpContext): Val[] {
  const x = ctx.input(0);
  const bs = ctx.attrs.int('block_size', 0);
  if (bs < 2) ctx.fail(`block_size ${bs}`);
  const nchw = (ctx.attrs.string('data_format') ?? 'NHWC') === 'NCHW';
  // ONNX's DCR ordering is TF's channel ordering.
  const a = { blocksize: attr.int(bs), mode: attr.string('DCR') };
  let shape: Dim[] | undefined;
  if (x.shape && x.shape.length === 4) {
    const [n, h, w, c] = nchw ? [x.shape[0], x.shape[2], x.shape[3], x.shape[1]] : x.shape;
    const mul = (d: Dim, k: number): Dim => (typeof d === 'number' ? d * k : null);
    const nhwc: Dim[] = [n, mul(h, bs), mul(w, bs), mul(c, 1 / (bs * bs))];
    shape = nchw ? [nhwc[0], nhwc[3], nhwc[1], nhwc[2]] : nhwc;
  }
  if (nchw) return [{ name: ctx.emit('DepthToSpace', [x], a, ctx.outName()), dtype: x.dtype, shape }];
  const t = ctx.emit('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) });
  const y = ctx.emit('DepthToSpace', [t], a);
  return [{ name: ctx.emit('Transpose', [y], { perm: attr.ints([0, 2, 3, 1]) }, ctx.outName()), dtype: x.dtype, shape }];
}

export const arrayOps: Record<string, OpMapper> = {
  Reshape: reshape,
  Transpose: transpose,
  ConcatV2: concatV2,
  Concat: concatV1,
  Pack: pack,
  Unpack: unpack,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  StridedSlice: stridedSlice,
  Slice: slice,
  Pad: pad('constant'),
  PadV2: pad('constant'),
  MirrorPad: pad('mirror'),
  SplitV: splitV,
  Split: split,
  GatherV2: gatherV2,
  Gather: gatherV2,
  GatherNd: gatherNd,
  Shape: shapeOp,
  Size: sizeOp,
  Fill: fill,
  BroadcastTo: broadcastTo,
  Range: range,
  Tile: tile,
  Where: where,
  DepthToSpace: depthToSpace,
};
