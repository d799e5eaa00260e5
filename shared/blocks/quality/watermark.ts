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

/**
 * The (2r+1)² box mean of `g` (row width `w`) over one zone, as a zw × zh array. Separable, and only
 * over the zone: the zones lie at least 40 px inside the 224² crop, so no window reaches its border.
 */
function zoneBoxMean(g: Float32Array, w: number, [x0, y0, x1, y1]: Rect, r: number): Float32Array {
  const zw = x1 - x0, zh = y1 - y0, n = 2 * r + 1;
  const tmp = new Float32Array((zh + 2 * r) * zw), out = new Float32Array(zh * zw);
  for (let y = y0 - r; y < y1 + r; y++) {
    for (let x = x0; x < x1; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += g[y * w + x + k];
      tmp[(y - y0 + r) * zw + x - x0] = s / n;
    }
  }
  for (let y = 0; y < zh; y++) {
    for (let x = 0; x < zw; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += tmp[(y + r + k) * zw + x];
      out[y * zw + x] = s / n;
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
  let n = 0, s = 0, ss = 0;
  const sigmas: number[] = [];
  for (const zone of ZONES) {
    const [x0, y0, x1, y1] = zone;
    const fine = zoneBoxMean(g, N, zone, 1), coarse = zoneBoxMean(g, N, zone, 4);
    for (let i = 0; i < fine.length; i++) {
      const v = fine[i] - coarse[i];
      n++; s += v; ss += v * v;
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
