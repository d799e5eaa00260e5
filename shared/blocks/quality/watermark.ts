import { greyOf, quantileOf } from './image-ops.js';

/**
 * Watermark heuristic (no model). A stamped overlay (semi-transparent text or a logo across the
 * picture) puts sharp-edged strokes on top of the face, where bare skin is otherwise smooth. The measure
 * reads three smooth-skin zones of the 224×224 ArcFace-aligned crop (forehead, both cheeks):
 *   stroke energy = standard deviation of a stroke-scale band-pass (3×3 box mean − 9×9 box mean),
 *   divided by (1 + σ), σ = the zones' sensor noise (Immerkær, 20th percentile of 8×8 blocks),
 * so that plain noise, which raises both, does not read as a watermark. It cannot tell an overlay from
 * strong make-up, tattoos, wrinkles or hair across the forehead, and faint marks (α < 0.3) or marks off
 * the face are missed: docs/quality.md gives the measured rates.
 */

export const WM_SIZE = 224;
type Rect = readonly [number, number, number, number];
const ZONES: Rect[] = [[76, 40, 148, 70], [40, 118, 80, 150], [144, 118, 184, 150]];

function boxMean(g: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(g.length), out = new Float32Array(g.length);
  const n = 2 * r + 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += g[y * w + Math.min(w - 1, Math.max(0, x + k))];
      tmp[y * w + x] = s / n;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
      out[y * w + x] = s / n;
    }
  }
  return out;
}

export interface WatermarkStats {
  /** Band-pass standard deviation over the zones (grey levels). */
  strokeEnergy: number;
  /** Noise σ of the zones (grey levels). */
  noise: number;
  /** strokeEnergy / (1 + noise): what the score reads. */
  ratio: number;
}

export function watermarkStats(aligned224: Uint8Array): WatermarkStats {
  const N = WM_SIZE;
  const g = greyOf(aligned224, N, N);
  const fine = boxMean(g, N, N, 1), coarse = boxMean(g, N, N, 4);
  let n = 0, s = 0, ss = 0;
  const sigmas: number[] = [];
  for (const [x0, y0, x1, y1] of ZONES) {
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const v = fine[y * N + x] - coarse[y * N + x];
        n++; s += v; ss += v * v;
      }
    }
    for (let by = y0; by + 8 <= y1; by += 8) {
      for (let bx = x0; bx + 8 <= x1; bx += 8) {
        let a = 0;
        for (let y = by; y < by + 8; y++) {
          for (let x = bx; x < bx + 8; x++) {
            const i = y * N + x;
            a += Math.abs(g[i - N - 1] - 2 * g[i - N] + g[i - N + 1] - 2 * g[i - 1] + 4 * g[i] - 2 * g[i + 1] + g[i + N - 1] - 2 * g[i + N] + g[i + N + 1]);
          }
        }
        sigmas.push((Math.sqrt(Math.PI / 2) / 6) * (a / 64));
      }
    }
  }
  const m = s / n;
  const strokeEnergy = Math.sqrt(Math.max(0, ss / n - m * m));
  const noise = quantileOf(sigmas, 0.2);
  return { strokeEnergy, noise, ratio: strokeEnergy / (1 + noise) };
}
