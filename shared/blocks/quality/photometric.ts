import { clipBox, type Box } from '../../geometry/box.js';
import type { RgbImage } from '../../image/rgb-image.js';
import { ellipseMask, greyOf, laplacianVariance, meanStd, quantileOf, quantiles, shareAtLeast } from './image-ops.js';

/**
 * Exposure, contrast and sharpness of the face, read from the 112×112 ArcFace-aligned crop (the pixels
 * the recognizer sees), and sensor noise read from the face region at a bounded native resolution.
 */

export const ALIGNED = 112;

/**
 * The inner face in the aligned crop: an ellipse from the brows to the chin and cheek to cheek (eyes at
 * y ≈ 52, mouth at y ≈ 92 in the ArcFace layout), so hair and background in the corners do not count.
 */
const INNER = ellipseMask(ALIGNED, ALIGNED, 56, 68, 34, 40);
/** Its image-left and image-right halves, for side lighting. */
const LEFT = INNER.map((v, i) => (v && i % ALIGNED < 56 ? 1 : 0));
const RIGHT = INNER.map((v, i) => (v && i % ALIGNED >= 56 ? 1 : 0));

export interface PhotometricStats {
  /** Variance of the 4-neighbour Laplacian of the grey aligned crop over the inner face (grey levels²). */
  laplacianVariance: number;
  /** Mean grey level of the inner face, its standard deviation, and the means of its image-left / image-right halves. */
  mean: number;
  std: number;
  leftMean: number;
  rightMean: number;
  /** 1st and 99th percentiles of the inner face's grey levels. */
  p1: number;
  p99: number;
  /** Share of inner-face pixels at 250 or above: clipped highlights. */
  clipped: number;
}

export function photometricStats(aligned: Uint8Array): PhotometricStats {
  const g = greyOf(aligned, ALIGNED, ALIGNED);
  const [p1, p99] = quantiles(g, INNER, [0.01, 0.99]);
  const { mean, std } = meanStd(g, INNER);
  return {
    laplacianVariance: laplacianVariance(g, ALIGNED, ALIGNED, INNER),
    mean,
    std,
    leftMean: meanStd(g, LEFT).mean,
    rightMean: meanStd(g, RIGHT).mean,
    p1,
    p99,
    clipped: shareAtLeast(g, INNER, 250),
  };
}

/** Longest side the noise estimate looks at: larger faces are binned down to it (as the recognizer's crop would be). */
const NOISE_SIDE = 160;
const BLOCK = 8;

/**
 * Noise standard deviation (grey levels) in the face box, by Immerkær's operator (the 3×3 mask
 * [1 −2 1; −2 4 −2; 1 −2 1], blind to planes and linear ramps): σ ≈ √(π/2)/6 · mean|response| per 8×8
 * block, and the 20th percentile over blocks, so the flat skin blocks speak and edges (eyes, hair) do
 * not. The box is read on whole pixels — interpolation would average the noise away — and faces larger
 * than 160 px are first binned k×k (k = ⌈side / 160⌉), which lowers σ by k as the recognizer's downscale does.
 */
export function noiseSigma(img: RgbImage, box: Box): number {
  const b = clipBox(box, img.width, img.height);
  const x0 = Math.round(b.x1), y0 = Math.round(b.y1);
  const w0 = Math.round(b.x2) - x0, h0 = Math.round(b.y2) - y0;
  const k = Math.max(1, Math.ceil(Math.max(w0, h0) / NOISE_SIDE));
  const w = Math.floor(w0 / k), h = Math.floor(h0 / k);
  if (w < BLOCK + 2 || h < BLOCK + 2) return 0;
  const g = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0, o = ((y0 + y * k + dy) * img.width + x0 + x * k) * 3; dx < k; dx++, o += 3) {
          s += 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
        }
      }
      g[y * w + x] = s / (k * k);
    }
  }
  const sigmas: number[] = [];
  for (let by = 1; by + BLOCK < h - 1; by += BLOCK) {
    for (let bx = 1; bx + BLOCK < w - 1; bx += BLOCK) {
      let s = 0;
      for (let y = by; y < by + BLOCK; y++) {
        for (let x = bx; x < bx + BLOCK; x++) {
          const i = y * w + x;
          const r =
            g[i - w - 1] - 2 * g[i - w] + g[i - w + 1] -
            2 * g[i - 1] + 4 * g[i] - 2 * g[i + 1] +
            g[i + w - 1] - 2 * g[i + w] + g[i + w + 1];
          s += Math.abs(r);
        }
      }
      sigmas.push((Math.sqrt(Math.PI / 2) / 6) * (s / (BLOCK * BLOCK)));
    }
  }
  return quantileOf(sigmas, 0.2);
}
