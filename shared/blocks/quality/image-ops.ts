/**
 * Small typed-array helpers the quality signals share: grey conversion, masks, filters and robust
 * statistics. Everything works on single-channel Float32Array planes (row-major, `w × h`).
 */

/** ITU-R BT.601 luma of an RGB uint8 patch. */
export function greyOf(rgb: Uint8Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) out[i] = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
  return out;
}

/** A boolean plane, 1 inside the axis-aligned ellipse centred at (cx, cy) with semi-axes rx, ry. */
export function ellipseMask(w: number, h: number, cx: number, cy: number, rx: number, ry: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
      if (dx * dx + dy * dy <= 1) m[y * w + x] = 1;
    }
  }
  return m;
}

/** Variance of the 4-neighbour Laplacian over the masked pixels (those with all neighbours inside the plane). */
export function laplacianVariance(g: Float32Array, w: number, h: number, mask: Uint8Array): number {
  let n = 0, s = 0, ss = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
      n++; s += l; ss += l * l;
    }
  }
  if (n === 0) return 0;
  const m = s / n;
  return Math.max(0, ss / n - m * m);
}

/** Mean and standard deviation of the masked pixels. */
export function meanStd(g: Float32Array, mask?: Uint8Array): { mean: number; std: number; n: number } {
  let n = 0, s = 0, ss = 0;
  for (let i = 0; i < g.length; i++) {
    if (mask && !mask[i]) continue;
    n++; s += g[i]; ss += g[i] * g[i];
  }
  if (n === 0) return { mean: 0, std: 0, n: 0 };
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, ss / n - mean * mean)), n };
}

/** Quantiles (0..1) of the masked pixels of a 0..255 plane, from a 256-bin histogram. */
export function quantiles(g: Float32Array, mask: Uint8Array | undefined, ps: readonly number[]): number[] {
  const hist = new Float64Array(256);
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    if (mask && !mask[i]) continue;
    hist[Math.max(0, Math.min(255, Math.round(g[i])))]++;
    n++;
  }
  return ps.map((p) => {
    const target = p * n;
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += hist[v];
      if (acc >= target && acc > 0) return v;
    }
    return 255;
  });
}

/** Share of the masked pixels at or above `level`. */
export function shareAtLeast(g: Float32Array, mask: Uint8Array | undefined, level: number): number {
  let n = 0, k = 0;
  for (let i = 0; i < g.length; i++) {
    if (mask && !mask[i]) continue;
    n++;
    if (g[i] >= level) k++;
  }
  return n ? k / n : 0;
}

/** Median of an array of numbers (copied, not modified). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of an array of numbers, nearest rank. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

export const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** A score in 0..1 → the contract's integer 0..100. */
export const toScore = (v: number) => Math.round(100 * clamp01(Number.isFinite(v) ? v : 0));

/** Linear ramp: 0 at `bad`, 1 at `good` (either order), clamped. */
export const ramp = (v: number, bad: number, good: number) => clamp01((v - bad) / (good - bad));
