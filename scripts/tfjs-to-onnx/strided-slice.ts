// TF StridedSlice semantics (masks, ellipsis, new axes, shrink) reduced to
// ONNX Slice + Squeeze + Unsqueeze. Follows the dense-spec construction of TF's
// strided_slice_op.cc so that negative indices, masks and shrinking behave identically.

/** ONNX Slice clamps out-of-range starts/ends, so these stand for "to the very end". */
export const SLICE_MAX = 2 ** 62;
export const SLICE_MIN = -(2 ** 62);

export interface StridedSliceMasks {
  begin: number;
  end: number;
  ellipsis: number;
  newAxis: number;
  shrink: number;
}

export interface DenseSliceDim {
  /** Input dim index. */
  axis: number;
  start: number;
  end: number;
  step: number;
  shrink: boolean;
}

export interface SlicePlan {
  /** Only dims that are actually sliced (full-range dims are left out). */
  slices: DenseSliceDim[];
  /** Input dims removed by shrink_axis_mask (numbered as in the input). */
  shrinkAxes: number[];
  /** Positions of inserted size-1 dims in the final output. */
  newAxes: number[];
}

/**
 * Plans a StridedSlice. `rank` may be undefined unless the spec has an ellipsis.
 * Returns an error string for spec combinations that cannot be expressed exactly.
 */
export function planStridedSlice(
  begin: number[],
  end: number[],
  strides: number[],
  masks: StridedSliceMasks,
  rank: number | undefined,
): SlicePlan | string {
  const n = begin.length;
  if (end.length !== n || strides.length !== n) return 'begin/end/strides lengths differ';
  const bit = (m: number, i: number): boolean => (m & (1 << i)) !== 0;
  let ellipsisAt = -1;
  for (let i = 0; i < n; i++) {
    if (bit(masks.ellipsis, i)) {
      if (ellipsisAt >= 0) return 'more than one ellipsis';
      ellipsisAt = i;
    }
    if (bit(masks.newAxis, i) && bit(masks.shrink, i)) return 'new_axis and shrink on the same index';
  }
  let newAxesAfterEllipsis = 0;
  if (ellipsisAt >= 0) for (let i = ellipsisAt + 1; i < n; i++) if (bit(masks.newAxis, i)) newAxesAfterEllipsis++;
  if (ellipsisAt >= 0 && rank === undefined) return 'ellipsis_mask needs the input rank, which is unknown';

  const slices: DenseSliceDim[] = [];
  const shrinkAxes: number[] = [];
  const newAxes: number[] = [];
  let dense = 0; // next input dim
  let outPos = 0; // next output position (for new-axis placement)
  const sparseDims = n;
  for (let i = 0; i < n; i++) {
    if (i === ellipsisAt) {
      // Same count as TF: the ellipsis covers every input dim the other entries do not name.
      const r = rank as number;
      const next = Math.min(r - (sparseDims - i) + 1 + newAxesAfterEllipsis, r);
      outPos += Math.max(next - dense, 0);
      dense = Math.max(next, dense);
      continue;
    }
    if (bit(masks.newAxis, i)) {
      newAxes.push(outPos++);
      continue;
    }
    const axis = dense++;
    const step = strides[i];
    if (step === 0) return 'stride 0';
    if (bit(masks.shrink, i)) {
      // foo[-1] must take the last element: end = begin + 1 would be 0 (an empty range).
      const b = begin[i];
      slices.push({ axis, start: b, end: b === -1 ? SLICE_MAX : b + 1, step: 1, shrink: true });
      shrinkAxes.push(axis);
      continue;
    }
    const start = bit(masks.begin, i) ? (step > 0 ? 0 : SLICE_MAX) : begin[i];
    const stop = bit(masks.end, i) ? (step > 0 ? SLICE_MAX : SLICE_MIN) : end[i];
    outPos++;
    if (start === 0 && stop === SLICE_MAX && step === 1) continue; // full range: nothing to do
    slices.push({ axis, start, end: stop, step, shrink: false });
  }
  if (rank !== undefined && dense > rank) return `slice spec names ${dense} dims of a rank-${rank} input`;
  return { slices, shrinkAxes, newAxes };
}

/** Indices a (start, end, step) range selects from a dim of size `dim`, with ONNX/TF clamping. */
export function sliceIndices(dim: number, start: number, end: number, step: number): number[] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const out: number[] = [];
  if (step > 0) for (let i = s; i < e; i += step) out.push(i);
  else for (let i = s; i > e; i += step) out.push(i);
  return out;
}
