/** How a model wants its input: channel order, scaling, and layout. */
export interface TensorSpec {
  /** `rgb`, `bgr`, or `grey` (one channel, ITU-R BT.601 luma). */
  order: 'rgb' | 'bgr' | 'grey';
  /** value = (pixel − mean[c]) / std[c], per output channel. */
  mean: readonly number[];
  std: readonly number[];
  layout: 'nchw' | 'nhwc';
}

/**
 * An RGB uint8 patch → float32 tensor data, written into `out` at `offset` so several faces can share one
 * batch buffer. Returns the number of floats written.
 */
export function patchToTensor(
  patch: Uint8Array,
  width: number,
  height: number,
  spec: TensorSpec,
  out: Float32Array = new Float32Array(width * height * (spec.order === 'grey' ? 1 : 3)),
  offset = 0,
): Float32Array {
  const n = width * height;
  if (spec.order === 'grey') {
    const m = spec.mean[0], s = 1 / spec.std[0];
    for (let i = 0, p = 0; i < n; i++, p += 3) {
      out[offset + i] = (0.299 * patch[p] + 0.587 * patch[p + 1] + 0.114 * patch[p + 2] - m) * s;
    }
    return out;
  }
  const src = spec.order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const m = spec.mean[c], s = 1 / spec.std[c], sc = src[c];
    if (spec.layout === 'nchw') {
      const base = offset + c * n;
      for (let i = 0, p = sc; i < n; i++, p += 3) out[base + i] = (patch[p] - m) * s;
    } else {
      for (let i = 0, p = sc; i < n; i++, p += 3) out[offset + i * 3 + c] = (patch[p] - m) * s;
    }
  }
  return out;
}

export const IMAGENET: Pick<TensorSpec, 'mean' | 'std'> = {
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
};
