import { affineScale, type Affine } from '../geometry/similarity.js';
import type { RgbImage } from './rgb-image.js';

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
  const k = Math.min(4, Math.max(1, Math.round(affineScale(dstToSrc) / 1.5 + 0.5)));
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

export function cropResize(img: RgbImage, x: number, y: number, w: number, h: number, outW: number, outH: number): Uint8Array {
  return warpAffine(img, cropTransform(x, y, w, h, outW, outH), outW, outH);
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
