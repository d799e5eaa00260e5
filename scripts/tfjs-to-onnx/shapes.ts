// Best-effort static shape propagation. Shapes are used to pick explicit conv paddings, to
// expand ellipsis slices and to declare output dims; anything unknown simply stays unknown.

import type { Dim } from './onnx-builder.js';

export function isStatic(dims: Dim[] | undefined): dims is number[] {
  return dims !== undefined && dims.every((d) => typeof d === 'number');
}

/** Numpy broadcasting over possibly-unknown dims. */
export function broadcastDims(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da: Dim = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
    const db: Dim = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (da === db) out.push(da);
    else if (typeof da === 'number' && db === null) out.push(da);
    else if (typeof db === 'number' && da === null) out.push(db);
    else if (typeof da === 'number' && typeof db === 'number') return undefined; // incompatible
    else out.push(null);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** TF output size of one spatial dim for a conv/pool window. */
export function convOutDim(input: Dim, kernel: number, stride: number, dilation: number, padding: 'SAME' | 'VALID' | [number, number]): Dim {
  if (typeof input !== 'number') return input === null ? null : null;
  const dk = (kernel - 1) * dilation + 1;
  if (padding === 'SAME') return Math.ceil(input / stride);
  if (padding === 'VALID') return Math.floor((input - dk) / stride) + 1;
  return Math.floor((input + padding[0] + padding[1] - dk) / stride) + 1;
}

/** TF 'SAME' padding (before, after) for one spatial dim; the extra pixel goes after. */
export function samePadding(input: number, kernel: number, stride: number, dilation: number): [number, number] {
  const dk = (kernel - 1) * dilation + 1;
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + dk - input, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function permuteDims(dims: Dim[] | undefined, perm: readonly number[]): Dim[] | undefined {
  return dims && dims.length === perm.length ? perm.map((p) => dims[p]) : undefined;
}
