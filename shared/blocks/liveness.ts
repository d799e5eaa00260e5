import type { LivenessParams } from '../config/config-object.js';
import { boxHeight, boxWidth, shiftInside, squareAround, type Box } from '../geometry/box.js';
import type { RgbImage } from '../image/rgb-image.js';
import { patchToTensor } from '../image/tensor.js';
import { cropResize, mirrorPatch } from '../image/warp.js';
import { loadModel, ort, type Model } from '../models/session.js';

/**
 * Face liveness (presentation-attack detection) with fr_liveness, a MiniFASNet-type CNN: a square crop
 * around the face (side = box height × scale, centred, shifted to stay inside the image), resized to
 * 128×128, raw 0..255 in **BGR** order (measured better than the vendor's RGB, models.md §2.4 and §6),
 * softmax over 3 classes, p[0] = live.
 *
 * Two judges share the crop code:
 * - `standard`: one ×2.7 crop — the vendor's recipe;
 * - `antiSpoofing`: ×2.7 and a wider ×4.0 crop (which sees paper edges, hands and the scene around a
 *   held-up photo), each averaged with its mirror image, the lower of the two kept; then a veto from a
 *   print-screen detector (periodic halftone / moiré peaks in the spectrum of the face at native
 *   resolution). Slower (4 inferences and an FFT), stricter. docs/liveness.md has the measurements.
 */

export type LivenessValue = 'REAL' | 'FAKE' | 'NOT_ENOUGH_DATA';

export interface LivenessResult {
  value: LivenessValue;
  /** Probability of the reported value; 0 for NOT_ENOUGH_DATA (nothing was judged). */
  confidence: number;
  /** p(live) behind the verdict, when one was reached. */
  pLive: number | null;
  /** Why the face was not judged (NOT_ENOUGH_DATA only). */
  reason?: string;
}

export interface LivenessFace {
  box: Box;
  angles: { yaw: number; pitch: number; roll: number } | null;
}

const SIZE = 128;
const STANDARD_SCALE = 2.7;
const WIDE_SCALE = 4.0;
const SPEC = { order: 'bgr', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' } as const;

export interface CropOptions {
  scale: number;
  /** Shrink the square to fit the image rather than let the crop run past it and squeeze. */
  fit?: boolean;
  flip?: boolean;
}

/** The crop square in image pixels (before clamping to the image) and the share of it outside the image. */
export function cropSquare(box: Box, scale: number, width: number, height: number): { square: Box; outside: number } {
  const square = squareAround(box, boxHeight(box) * scale);
  const side = square.x2 - square.x1;
  const iw = Math.max(0, Math.min(width, square.x2) - Math.max(0, square.x1));
  const ih = Math.max(0, Math.min(height, square.y2) - Math.max(0, square.y1));
  return { square, outside: side > 0 ? 1 - (iw * ih) / (side * side) : 1 };
}

export class LivenessEstimator {
  private constructor(
    readonly params: LivenessParams,
    private readonly session: Model,
  ) {}

  static async create(params: LivenessParams): Promise<LivenessEstimator> {
    return new LivenessEstimator(params, await loadModel(params.model, { input: [1, 3, SIZE, SIZE] }));
  }

  /** Why a face cannot be judged (too small, cut off by the frame, turned too far), or null. */
  gate(img: RgbImage, face: LivenessFace): string | null {
    const p = this.params;
    const size = Math.min(boxWidth(face.box), boxHeight(face.box));
    if (size < p.min_face_size) return `face smaller than ${p.min_face_size} px`;
    const { outside } = cropSquare(face.box, STANDARD_SCALE, img.width, img.height);
    if (outside > p.max_outside_ratio) return `${Math.round(outside * 100)} % of the ×${STANDARD_SCALE} crop is outside the image`;
    if (face.angles && Math.abs(face.angles.yaw) > p.max_yaw) return `|yaw| above ${p.max_yaw}°`;
    if (face.angles && Math.abs(face.angles.pitch) > p.max_pitch) return `|pitch| above ${p.max_pitch}°`;
    return null;
  }

  /** p(live) for one crop. */
  async pLive(img: RgbImage, box: Box, crop: CropOptions): Promise<number> {
    let side = boxHeight(box) * crop.scale;
    if (crop.fit) side = Math.min(side, img.width, img.height);
    const sq = shiftInside(squareAround(box, side), img.width, img.height);
    let patch = cropResize(img, sq.x1, sq.y1, sq.x2 - sq.x1, sq.y2 - sq.y1, SIZE, SIZE);
    if (crop.flip) patch = mirrorPatch(patch, SIZE, SIZE);
    const input = patchToTensor(patch, SIZE, SIZE, SPEC);
    const logits = (await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) }))[this.session.outputNames[0]].data as Float32Array;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    return Math.exp(logits[0] - max) / sum;
  }

  private verdict(p: number): LivenessResult {
    const real = p >= this.params.threshold;
    return { value: real ? 'REAL' : 'FAKE', confidence: real ? p : 1 - p, pLive: p };
  }

  private notEnough(reason: string): LivenessResult {
    return { value: 'NOT_ENOUGH_DATA', confidence: 0, pLive: null, reason };
  }

  /** The standard module: one ×2.7 crop. */
  async standard(img: RgbImage, face: LivenessFace): Promise<LivenessResult> {
    const reason = this.gate(img, face);
    if (reason) return this.notEnough(reason);
    return this.verdict(await this.pLive(img, face.box, { scale: STANDARD_SCALE }));
  }

  /** The slower, stricter module: two scales × mirror, the lower scale's score, then the print-screen veto. */
  async antiSpoofing(img: RgbImage, face: LivenessFace): Promise<LivenessResult> {
    const reason = this.gate(img, face);
    if (reason) return this.notEnough(reason);
    const both = async (crop: CropOptions) => ((await this.pLive(img, face.box, crop)) + (await this.pLive(img, face.box, { ...crop, flip: true }))) / 2;
    const tight = await both({ scale: STANDARD_SCALE });
    const wide = await both({ scale: WIDE_SCALE, fit: true });
    const screen = screenVeto(spectralPeak(img, face.box));
    return this.verdict(Math.min(tight, wide) * (1 - screen));
  }
}

// -------------------------------------------------------------------------------------------------
// Print-screen cue: a halftone screen or a moiré between print dots and camera pixels is a periodic
// pattern, i.e. isolated peaks in the power spectrum; live skin has a smooth, falling spectrum.

/** In-place radix-2 FFT of one row or column. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len, wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/**
 * Strongest periodic component of the face at native resolution: an n×n grey window at the face centre
 * (n = 128, or 64 for faces under 140 px, so it stays on the face), Hann-windowed, mean removed; power
 * spectrum; for each ring of radius 6…n/2−2 cycles, max ÷ median power; the largest ratio. Rows and
 * columns at multiples of n/8 cycles are skipped: JPEG's 8×8 block grid puts its energy there.
 */
export function spectralPeak(img: RgbImage, box: Box): number {
  const n = Math.min(boxWidth(box), boxHeight(box)) >= 140 ? 128 : 64;
  const cx = Math.round((box.x1 + box.x2) / 2 - n / 2), cy = Math.round((box.y1 + box.y2) / 2 - n / 2);
  const re = new Float64Array(n * n), im = new Float64Array(n * n);
  let mean = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const sx = Math.min(img.width - 1, Math.max(0, cx + x)), sy = Math.min(img.height - 1, Math.max(0, cy + y));
      const o = (sy * img.width + sx) * 3;
      const v = 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
      re[y * n + x] = v;
      mean += v;
    }
  }
  mean /= n * n;
  for (let y = 0; y < n; y++) {
    const wy = 0.5 - 0.5 * Math.cos((2 * Math.PI * (y + 0.5)) / n);
    for (let x = 0; x < n; x++) re[y * n + x] = (re[y * n + x] - mean) * wy * (0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / n));
  }
  const rr = new Float64Array(n), ri = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    rr.set(re.subarray(y * n, y * n + n)); ri.set(im.subarray(y * n, y * n + n));
    fft(rr, ri);
    re.set(rr, y * n); im.set(ri, y * n);
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) { rr[y] = re[y * n + x]; ri[y] = im[y * n + x]; }
    fft(rr, ri);
    for (let y = 0; y < n; y++) { re[y * n + x] = rr[y]; im[y * n + x] = ri[y]; }
  }
  const grid = n / 8;
  const rings: number[][] = Array.from({ length: n / 2 }, () => []);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const fu = u < n / 2 ? u : u - n, fv = v < n / 2 ? v : v - n;
      if (fu % grid === 0 || fv % grid === 0) continue;
      const r = Math.round(Math.hypot(fu, fv));
      if (r < 6 || r > n / 2 - 2) continue;
      const i = v * n + u;
      rings[r].push(re[i] * re[i] + im[i] * im[i]);
    }
  }
  let best = 0;
  for (const ring of rings) {
    if (ring.length < 8) continue;
    ring.sort((a, b) => a - b);
    const median = ring[ring.length >> 1];
    if (median > 0) best = Math.max(best, ring[ring.length - 1] / median);
  }
  return best;
}

/**
 * Veto strength from the spectral peak: 0 below 150 (the highest bona fide faces measured reach ≈ 130–170
 * before the JPEG-grid exclusion), 1 from 300 (a halftone screen typically gives 500–3000).
 */
export const SCREEN_VETO = { from: 150, full: 300 } as const;
export const screenVeto = (peak: number) => Math.min(1, Math.max(0, (peak - SCREEN_VETO.from) / (SCREEN_VETO.full - SCREEN_VETO.from)));
