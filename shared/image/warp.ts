import { affineScale, type Affine } from '../geometry/similarity.js';
import type { RgbImage } from './rgb-image.js';

/** Sub-samples per axis for a patch that shrinks the source by `scale`: one up to 1.5×, at most 4. */
const subSamples = (scale: number) => Math.min(4, Math.max(1, Math.round(scale / 1.5 + 0.5)));

/**
 * Samples an RGB patch of `outW × outH` where output pixel (u, v) comes from source point
 * `dstToSrc(u + 0.5, v + 0.5)`. Bilinear, with k×k supersampling when the patch shrinks the source by
 * more than 1.5× (a 400-px face into 112 px would otherwise alias). Outside the image reads as black.
 * One loop for crops, resizes and similarity warps: a crop is an axis-aligned affine.
 */
export function warpAffine(img: RgbImage, dstToSrc: Affine, outW: number, outH: number): Uint8Array {
  const { data, width, height } = img;
  const out = new Uint8Array(outW * outH * 3);
  const [a, b, tx, c, d, ty] = dstToSrc;
  const k = subSamples(affineScale(dstToSrc));
  const inv = 1 / (k * k);
  const stride = width * 3;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      let acc0 = 0, acc1 = 0, acc2 = 0;
      for (let sv = 0; sv < k; sv++) {
        const yy = v + (sv + 0.5) / k;
        for (let su = 0; su < k; su++) {
          const xx = u + (su + 0.5) / k;
          // Pixel centres sit at integer + 0.5 in continuous coordinates.
          const x = a * xx + b * yy + tx - 0.5;
          const y = c * xx + d * yy + ty - 0.5;
          const x0 = Math.floor(x), y0 = Math.floor(y);
          const fx = x - x0, fy = y - y0;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
            // Fast path (nearly every sample): all four neighbours inside, no per-tap bounds checks.
            const p = y0 * stride + x0 * 3, q = p + stride;
            const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
            acc0 += w00 * data[p] + w01 * data[p + 3] + w10 * data[q] + w11 * data[q + 3];
            acc1 += w00 * data[p + 1] + w01 * data[p + 4] + w10 * data[q + 1] + w11 * data[q + 4];
            acc2 += w00 * data[p + 2] + w01 * data[p + 5] + w10 * data[q + 2] + w11 * data[q + 5];
            continue;
          }
          for (let ch = 0; ch < 3; ch++) {
            let s = 0;
            if (y0 >= 0 && y0 < height) {
              const row = y0 * stride + ch;
              if (x0 >= 0 && x0 < width) s += (1 - fx) * (1 - fy) * data[row + x0 * 3];
              if (x0 + 1 >= 0 && x0 + 1 < width) s += fx * (1 - fy) * data[row + (x0 + 1) * 3];
            }
            if (y0 + 1 >= 0 && y0 + 1 < height) {
              const row = (y0 + 1) * stride + ch;
              if (x0 >= 0 && x0 < width) s += (1 - fx) * fy * data[row + x0 * 3];
              if (x0 + 1 >= 0 && x0 + 1 < width) s += fx * fy * data[row + (x0 + 1) * 3];
            }
            if (ch === 0) acc0 += s;
            else if (ch === 1) acc1 += s;
            else acc2 += s;
          }
        }
      }
      const o = (v * outW + u) * 3;
      out[o] = acc0 * inv + 0.5;
      out[o + 1] = acc1 * inv + 0.5;
      out[o + 2] = acc2 * inv + 0.5;
    }
  }
  return out;
}

/** The affine that maps a `outW × outH` patch onto the source rectangle (x, y, w, h). */
export const cropTransform = (x: number, y: number, w: number, h: number, outW: number, outH: number): Affine => [
  w / outW, 0, x, 0, h / outH, y,
];

/** Per output index along one axis: the source indices it reads (from `first`, `count` of them) and their weights. */
interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  /** `span` weights per output index (unused ones 0). */
  weights: Float64Array;
  span: number;
}

/**
 * The bilinear taps of `k` sub-samples per output pixel along one axis, merged per source index and
 * scaled by 1/k; taps outside [0, size) are dropped (outside reads as black), as in warpAffine.
 */
function axisTaps(start: number, step: number, outN: number, k: number, size: number): AxisTaps {
  const span = Math.ceil(step) + 2;
  const first = new Int32Array(outN), count = new Int32Array(outN), weights = new Float64Array(outN * span);
  for (let o = 0; o < outN; o++) {
    const lo = Math.floor(step * (o + 0.5 / k) + start - 0.5);
    first[o] = lo;
    for (let sub = 0; sub < k; sub++) {
      const x = step * (o + (sub + 0.5) / k) + start - 0.5;
      const x0 = Math.floor(x), fx = x - x0;
      if (x0 >= 0 && x0 < size) weights[o * span + x0 - lo] += (1 - fx) / k;
      if (x0 + 1 >= 0 && x0 + 1 < size) weights[o * span + x0 + 1 - lo] += fx / k;
      count[o] = Math.max(count[o], x0 + 2 - lo);
    }
  }
  return { first, count, weights, span };
}

/**
 * The axis-aligned case of warpAffine (the same sub-sampled bilinear filter, the same result up to
 * float rounding), done separably: a horizontal pass over the source rows the crop touches, then a
 * vertical one. The filter's k × k sub-samples cost k + 1 taps per axis instead of 4k² per pixel:
 * a 435-px face square to the pose model's 224² is 4× faster than the general warp.
 */
export function cropResize(img: RgbImage, x: number, y: number, w: number, h: number, outW: number, outH: number): Uint8Array {
  const { data, width, height } = img;
  const k = subSamples(Math.sqrt((w / outW) * (h / outH)));
  const cols = axisTaps(x, w / outW, outW, k, width);
  const rows = axisTaps(y, h / outH, outH, k, height);
  const out = new Uint8Array(outW * outH * 3);
  const r0 = Math.max(0, rows.first[0]);
  const r1 = Math.min(height, rows.first[outH - 1] + rows.count[outH - 1]);
  if (r1 <= r0) return out;
  // Horizontal pass: every touched source row resampled to outW pixels.
  const mid = new Float64Array((r1 - r0) * outW * 3);
  for (let r = r0; r < r1; r++) {
    const src = r * width * 3;
    let m = (r - r0) * outW * 3;
    for (let u = 0; u < outW; u++, m += 3) {
      let a0 = 0, a1 = 0, a2 = 0;
      const base = u * cols.span, c0 = cols.first[u], n = cols.count[u];
      for (let t = 0; t < n; t++) {
        const wt = cols.weights[base + t];
        if (wt === 0) continue;
        const p = src + (c0 + t) * 3;
        a0 += wt * data[p];
        a1 += wt * data[p + 1];
        a2 += wt * data[p + 2];
      }
      mid[m] = a0;
      mid[m + 1] = a1;
      mid[m + 2] = a2;
    }
  }
  // Vertical pass.
  const rowLen = outW * 3;
  const acc = new Float64Array(rowLen);
  for (let v = 0; v < outH; v++) {
    const base = v * rows.span, q0 = rows.first[v], n = rows.count[v], o = v * rowLen;
    for (let t = 0; t < n; t++) {
      const wt = rows.weights[base + t];
      if (wt === 0) continue;
      const m = (q0 + t - r0) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += wt * mid[m + i];
    }
    for (let i = 0; i < rowLen; i++) {
      out[o + i] = acc[i] + 0.5;
      acc[i] = 0;
    }
  }
  return out;
}

/** The patch flipped left–right (test-time augmentation of the recognizer and the liveness ensemble). */
export function mirrorPatch(patch: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(patch.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3, d = (y * width + width - 1 - x) * 3;
      out[d] = patch[s]; out[d + 1] = patch[s + 1]; out[d + 2] = patch[s + 2];
    }
  }
  return out;
}
