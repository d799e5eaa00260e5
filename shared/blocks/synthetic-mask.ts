import type { Point } from '../geometry/similarity.js';
import type { RgbImage } from '../image/rgb-image.js';
import type { Landmarks68 } from './landmarks.js';

/**
 * Draws synthetic face masks and mask-like occluders onto a face from its 68 iBUG landmarks, in plain
 * typed arrays. It exists to train the mask probe (scripts/train-mask-probe.ts) without any real masked
 * photo: positives are surgical, cloth and N95-type masks; hard negatives are things that cover part of
 * a face without being a mask (a hand, a scarf over the chin, a beard, a held object, sunglasses, a mask
 * pulled down under the chin). Everything random comes from the caller's seeded generator, so a render
 * is a pure function of (image, landmarks, seed).
 */

export { seededRng, type Rng } from '../seeded-random.js';
import type { Rng } from '../seeded-random.js';

export const uniform = (rng: Rng, a: number, b: number) => a + (b - a) * rng();
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length) % items.length];
export const chance = (rng: Rng, p: number) => rng() < p;

type Rgb = readonly [number, number, number];

export function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5) * 255, f(3) * 255, f(1) * 255];
}

const hex = (h: string): Rgb => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];

// ---------------------------------------------------------------------------------------------------
// Rasterisation

/** Per-pixel coverage (0..1) of a shape over a window of the image. */
export interface Coverage {
  x0: number;
  y0: number;
  w: number;
  h: number;
  a: Float32Array;
}

const SUB = 4;

/** Anti-aliased coverage of a closed polygon (even-odd), by 4 sub-scanlines a row and exact span ends. */
export function polygonCoverage(poly: readonly Point[], width: number, height: number): Coverage {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of poly) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const x0 = Math.max(0, Math.floor(minX)), x1 = Math.min(width, Math.ceil(maxX));
  const y0 = Math.max(0, Math.floor(minY)), y1 = Math.min(height, Math.ceil(maxY));
  const w = Math.max(0, x1 - x0), h = Math.max(0, y1 - y0);
  const a = new Float32Array(w * h);
  const xs: number[] = [];
  for (let y = y0; y < y1; y++) {
    const row = (y - y0) * w;
    for (let s = 0; s < SUB; s++) {
      const sy = y + (s + 0.5) / SUB;
      xs.length = 0;
      for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
        const [xa, ya] = poly[j], [xb, yb] = poly[i];
        if (ya <= sy !== yb <= sy) xs.push(xa + ((sy - ya) * (xb - xa)) / (yb - ya));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const l = Math.max(xs[k], x0), r = Math.min(xs[k + 1], x1);
        if (r <= l) continue;
        const pl = Math.floor(l), pr = Math.min(x1 - 1, Math.floor(r));
        for (let px = pl; px <= pr; px++) {
          const overlap = Math.min(px + 1, r) - Math.max(px, l);
          if (overlap > 0) a[row + px - x0] += overlap / SUB;
        }
      }
    }
  }
  return { x0, y0, w, h, a };
}

/** Union (per-pixel maximum) of several coverages, e.g. the segments of a stroke. */
export function unionCoverage(parts: readonly Coverage[]): Coverage {
  const live = parts.filter((p) => p.w > 0 && p.h > 0);
  if (live.length === 0) return { x0: 0, y0: 0, w: 0, h: 0, a: new Float32Array(0) };
  const x0 = Math.min(...live.map((p) => p.x0)), y0 = Math.min(...live.map((p) => p.y0));
  const x1 = Math.max(...live.map((p) => p.x0 + p.w)), y1 = Math.max(...live.map((p) => p.y0 + p.h));
  const w = x1 - x0, h = y1 - y0;
  const a = new Float32Array(w * h);
  for (const p of live) {
    for (let y = 0; y < p.h; y++) {
      const dst = (y + p.y0 - y0) * w + p.x0 - x0;
      for (let x = 0; x < p.w; x++) a[dst + x] = Math.max(a[dst + x], p.a[y * p.w + x]);
    }
  }
  return { x0, y0, w, h, a };
}

export function ellipsePolygon(c: Point, rx: number, ry: number, angle = 0, n = 40): Point[] {
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const x = rx * Math.cos(t), y = ry * Math.sin(t);
    out.push([c[0] + ca * x - sa * y, c[1] + sa * x + ca * y]);
  }
  return out;
}

/** A thick polyline (round-ish joints from a small disc at every vertex). */
export function strokeCoverage(points: readonly Point[], thickness: number, width: number, height: number): Coverage {
  const half = thickness / 2;
  const parts: Coverage[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i], [bx, by] = points[i + 1];
    const len = Math.hypot(bx - ax, by - ay) || 1;
    const nx = (-(by - ay) / len) * half, ny = ((bx - ax) / len) * half;
    parts.push(polygonCoverage([[ax + nx, ay + ny], [bx + nx, by + ny], [bx - nx, by - ny], [ax - nx, ay - ny]], width, height));
  }
  for (const p of points) parts.push(polygonCoverage(ellipsePolygon(p, half, half, 0, 12), width, height));
  return unionCoverage(parts);
}

const quadBezier = (a: Point, c: Point, b: Point, n = 12): Point[] =>
  Array.from({ length: n + 1 }, (_, i) => {
    const t = i / n, u = 1 - t;
    return [u * u * a[0] + 2 * u * t * c[0] + t * t * b[0], u * u * a[1] + 2 * u * t * c[1] + t * t * b[1]] as Point;
  });

/** Returns the colour (0..255 floats) and opacity multiplier of a pixel centre. */
type Shader = (x: number, y: number, out: number[]) => number;

/** Blends a shaded shape into the image in place. */
function paint(img: RgbImage, cov: Coverage, shader: Shader): void {
  const { data, width } = img;
  const col = [0, 0, 0];
  for (let y = 0; y < cov.h; y++) {
    for (let x = 0; x < cov.w; x++) {
      const c = cov.a[y * cov.w + x];
      if (c <= 0.001) continue;
      const px = x + cov.x0, py = y + cov.y0;
      const alpha = Math.min(1, c) * shader(px + 0.5, py + 0.5, col);
      if (alpha <= 0) continue;
      const o = (py * width + px) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = data[o + ch] * (1 - alpha) + col[ch] * alpha;
        data[o + ch] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
      }
    }
  }
}

/** Integer hash → [0, 1): per-pixel noise that depends only on position and a seed. */
function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise on a grid of `cell` units. */
function valueNoise(x: number, y: number, cell: number, seed: number): number {
  const gx = x / cell, gy = y / cell;
  const ix = Math.floor(gx), iy = Math.floor(gy);
  const fx = gx - ix, fy = gy - iy;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, seed), b = hash2(ix + 1, iy, seed), c = hash2(ix, iy + 1, seed), d = hash2(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

// ---------------------------------------------------------------------------------------------------
// Face geometry

const meanOf = (pts: Landmarks68, idx: readonly number[]): Point => [
  idx.reduce((s, i) => s + pts[i][0], 0) / idx.length,
  idx.reduce((s, i) => s + pts[i][1], 0) / idx.length,
];

/**
 * A face-attached frame: origin at the top of the nose bridge (pt 27), `s` along the eye line towards
 * the image-right eye, `t` perpendicular and down the face, both in inter-ocular distances. Shapes
 * built in it follow the face's roll and size.
 */
export class FaceFrame {
  readonly origin: Point;
  readonly ex: Point;
  readonly ey: Point;
  readonly d: number;

  constructor(readonly pts: Landmarks68) {
    const l = meanOf(pts, [36, 37, 38, 39, 40, 41]), r = meanOf(pts, [42, 43, 44, 45, 46, 47]);
    this.d = Math.max(2, Math.hypot(r[0] - l[0], r[1] - l[1]));
    this.ex = [(r[0] - l[0]) / this.d, (r[1] - l[1]) / this.d];
    this.ey = [-this.ex[1], this.ex[0]];
    this.origin = pts[27];
  }

  toImage(s: number, t: number): Point {
    return [this.origin[0] + this.d * (s * this.ex[0] + t * this.ey[0]), this.origin[1] + this.d * (s * this.ex[1] + t * this.ey[1])];
  }

  toFrame(p: Point): [number, number] {
    const dx = p[0] - this.origin[0], dy = p[1] - this.origin[1];
    return [(dx * this.ex[0] + dy * this.ex[1]) / this.d, (dx * this.ey[0] + dy * this.ey[1]) / this.d];
  }

  st(i: number): [number, number] {
    return this.toFrame(this.pts[i]);
  }
}

/** Where the jaw contour (left: 0→8, right: 16→8) first reaches the level t; returns the point and its fractional index. */
function jawAt(f: FaceFrame, level: number, side: 'left' | 'right'): { p: Point; index: number } {
  const order = side === 'left' ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [16, 15, 14, 13, 12, 11, 10, 9, 8];
  if (f.st(order[0])[1] >= level) return { p: f.pts[order[0]], index: order[0] };
  for (let k = 0; k + 1 < order.length; k++) {
    const ta = f.st(order[k])[1], tb = f.st(order[k + 1])[1];
    if (tb >= level) {
      const w = tb > ta ? (level - ta) / (tb - ta) : 0;
      const a = f.pts[order[k]], b = f.pts[order[k + 1]];
      return { p: [a[0] + w * (b[0] - a[0]), a[1] + w * (b[1] - a[1])], index: order[k] + (side === 'left' ? w : -w) };
    }
  }
  return { p: f.pts[8], index: 8 };
}

/** The jaw contour below a level, from the image-right side round the chin to the image-left side, pushed out from the face. */
function lowerContour(f: FaceFrame, rightIndex: number, leftIndex: number, margin: number, chinDrop: number, flatten: number): Point[] {
  const centre = meanOf(f.pts, [27, 28, 29, 30, 33, 51, 57, 62, 66]);
  const out: Point[] = [];
  for (let i = Math.floor(rightIndex); i >= Math.ceil(leftIndex); i--) {
    if (i > 16 || i < 0) continue;
    const p = f.pts[i];
    const grow: Point = [p[0] + (p[0] - centre[0]) * margin, p[1] + (p[1] - centre[1]) * margin];
    // Below the chin a mask hangs free of the jaw; `flatten` pulls the bottom towards a straight edge.
    const [s, t] = f.toFrame(grow);
    const w = Math.max(0, 1 - Math.abs(i - 8) / 5); // 1 at the chin (pt 8), 0 from pts 3 and 13 up
    const chinT = f.st(8)[1] + chinDrop;
    const tt = t + w * (chinT - t) * (flatten * 0.6 + 0.4 * w) + w * chinDrop * 0.3;
    out.push(f.toImage(s, Math.max(t, tt)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Styles

export type MaskKind = 'surgical' | 'cloth' | 'n95';
export type OccluderKind = 'hand' | 'scarf_chin' | 'beard' | 'object' | 'sunglasses' | 'mask_on_chin';
/** `train` colours never include the hue band that `holdout` uses, so a test can check renders the probe never saw. */
export type Palette = 'train' | 'holdout';

export type Pattern = 'solid' | 'stripes' | 'dots' | 'print' | 'checks' | 'camo';

export interface MaskStyle {
  kind: MaskKind;
  base: Rgb;
  second: Rgb;
  third: Rgb;
  pattern: Pattern;
  /** Pattern frequency (repeats across the mask width). */
  freq: number;
  angle: number;
  /** Where the top edge crosses the nose: 0 = top of the bridge (pt 27), 1 = nose tip (pt 30); > 1 below the nose. */
  noseLevel: number;
  margin: number;
  chinDrop: number;
  light: readonly [number, number, number];
  loops: boolean;
  loopColour: Rgb;
  valve: boolean;
  seam: boolean;
  grain: number;
  seed: number;
}

const SURGICAL_TRAIN = ['#a9d2ea', '#8ec3e6', '#b7dcef', '#9fc9dc', '#f1f3f4', '#e6eaee', '#a9d8bf', '#b9e3cc', '#f3c6d3', '#2b2b2d', '#3a4f7a', '#c9ccd1'];
const N95_TRAIN = ['#f4f4f2', '#e9e9e4', '#d9dadb', '#c4c6c8', '#f1ede2', '#2e2e30', '#6d8fb5'];
/** Violet/purple hues: `holdout` draws from the inner band, training colours keep out of the outer one. */
export const HOLDOUT_HUES = { inner: [270, 300], excluded: [260, 310] } as const;

function trainHue(rng: Rng): number {
  const [a, b] = HOLDOUT_HUES.excluded;
  const h = rng() * (360 - (b - a));
  return h < a ? h : h + (b - a);
}

function clothColour(rng: Rng, palette: Palette): Rgb {
  const h = palette === 'holdout' ? uniform(rng, HOLDOUT_HUES.inner[0], HOLDOUT_HUES.inner[1]) : trainHue(rng);
  // Cloth masks: greys and blacks as often as colours.
  const r = rng();
  if (palette === 'train' && r < 0.3) return hsv(h, uniform(rng, 0, 0.15), uniform(rng, 0.08, 0.95));
  return hsv(h, uniform(rng, 0.25, 0.95), uniform(rng, 0.25, 0.95));
}

const jitterColour = (rng: Rng, c: Rgb, amount: number): Rgb => c.map((v) => Math.max(0, Math.min(255, v * uniform(rng, 1 - amount, 1 + amount)))) as unknown as Rgb;

export function sampleMaskStyle(rng: Rng, palette: Palette = 'train', kind?: MaskKind): MaskStyle {
  const k: MaskKind = kind ?? pick(rng, ['surgical', 'surgical', 'cloth', 'cloth', 'n95'] as const);
  let base: Rgb, pattern: Pattern = 'solid';
  if (palette === 'holdout') base = clothColour(rng, palette);
  else if (k === 'surgical') base = jitterColour(rng, hex(pick(rng, SURGICAL_TRAIN)), 0.06);
  else if (k === 'n95') base = jitterColour(rng, hex(pick(rng, N95_TRAIN)), 0.05);
  else base = clothColour(rng, palette);
  if (k === 'cloth') pattern = pick(rng, ['solid', 'solid', 'stripes', 'dots', 'print', 'checks', 'camo'] as const);
  const lightAngle = uniform(rng, -1, 1);
  // A few masks sit below the nose (worn carelessly): still a mask on the face.
  const noseLevel = chance(rng, 0.12) ? uniform(rng, 1.15, 1.35) : k === 'n95' ? uniform(rng, 0.2, 0.45) : uniform(rng, 0.25, 0.7);
  return {
    kind: k,
    base,
    second: clothColour(rng, palette),
    third: clothColour(rng, palette),
    pattern,
    freq: uniform(rng, 3, 9),
    angle: pick(rng, [0, Math.PI / 2, Math.PI / 4, -Math.PI / 4, uniform(rng, 0, Math.PI)]),
    noseLevel,
    margin: uniform(rng, 0.02, 0.09),
    chinDrop: uniform(rng, 0.05, 0.3),
    light: [Math.sin(lightAngle), uniform(rng, -0.4, 0.1), Math.cos(lightAngle)],
    loops: chance(rng, 0.8),
    loopColour: k === 'surgical' ? jitterColour(rng, hex('#f0f0f0'), 0.08) : chance(rng, 0.5) ? base : jitterColour(rng, hex('#eeeeee'), 0.1),
    valve: k === 'n95' && chance(rng, 0.45),
    seam: k === 'n95' ? chance(rng, 0.5) : k === 'cloth' && chance(rng, 0.4),
    grain: uniform(rng, 0.02, 0.07),
    seed: Math.floor(rng() * 1e9),
  };
}

/** Mean colour and luma of the face's own skin (the between-the-eyes and cheek patches). */
function skinSample(img: RgbImage, f: FaceFrame): { colour: Rgb; luma: number } {
  const spots: Point[] = [f.toImage(0, 0.25), f.toImage(-0.55, 0.55), f.toImage(0.55, 0.55), f.toImage(0, -0.5)];
  const r = Math.max(1, Math.round(f.d * 0.08));
  const acc = [0, 0, 0];
  let n = 0;
  for (const [cx, cy] of spots) {
    for (let y = Math.round(cy) - r; y <= Math.round(cy) + r; y++) {
      for (let x = Math.round(cx) - r; x <= Math.round(cx) + r; x++) {
        if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
        const o = (y * img.width + x) * 3;
        acc[0] += img.data[o]; acc[1] += img.data[o + 1]; acc[2] += img.data[o + 2];
        n++;
      }
    }
  }
  const colour: Rgb = n ? [acc[0] / n, acc[1] / n, acc[2] / n] : [180, 140, 120];
  return { colour, luma: 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] };
}

/** Scene light: skin this dark means the mask must be dimmed too (a white mask in a dim photo is not white). */
const sceneGain = (skinLuma: number) => Math.max(0.35, Math.min(1.15, skinLuma / 150));

// ---------------------------------------------------------------------------------------------------
// Masks

interface MaskShape {
  polygon: Point[];
  /** Frame `t` of the top edge at frame `s` (pleats and patterns follow it). */
  top: (s: number) => number;
  sMin: number;
  sMax: number;
  tMax: number;
  /** Side attachment points (upper, lower) for loops and straps. */
  left: [Point, Point];
  right: [Point, Point];
}

function maskShape(f: FaceFrame, style: Pick<MaskStyle, 'kind' | 'noseLevel' | 'margin' | 'chinDrop'>): MaskShape {
  const bridge = f.st(27), tip = f.st(30), under = f.st(33);
  const tNose = style.noseLevel <= 1 ? bridge[1] + style.noseLevel * (tip[1] - bridge[1]) : under[1] + (style.noseLevel - 1) * 0.6;
  const sNose = style.noseLevel <= 1 ? bridge[0] + style.noseLevel * (tip[0] - bridge[0]) : under[0];
  const sideDrop = style.kind === 'n95' ? 0.3 : 0.22;
  const sideT = tNose + sideDrop;
  const jl = jawAt(f, sideT, 'left'), jr = jawAt(f, sideT, 'right');
  const centre = f.toFrame(meanOf(f.pts, [30, 33, 51, 57]));
  const push = (p: Point): Point => {
    const [s, t] = f.toFrame(p);
    return f.toImage(s + (s - centre[0]) * style.margin * 1.5, t);
  };
  const pl = push(jl.p), pr = push(jr.p);
  const sl = f.toFrame(pl)[0], sr = f.toFrame(pr)[0];
  const bump = (s: number) => 1 - Math.exp(-(((s - sNose) / 0.32) ** 2));
  const norm = (s: number) => (s < sNose ? bump(sl) : bump(sr)) || 1;
  const top = (s: number) => tNose + ((f.toFrame(s < sNose ? pl : pr)[1] - tNose) * bump(s)) / norm(s);
  const topCurve: Point[] = [];
  const N = 18;
  for (let i = 0; i <= N; i++) {
    const s = sl + ((sr - sl) * i) / N;
    topCurve.push(f.toImage(s, top(s)));
  }
  let polygon: Point[];
  if (style.kind === 'n95') {
    // A cup: a rounded shape from the nose to under the chin, free of the jaw line.
    const chin = f.st(8)[1] + style.chinDrop * 0.7;
    const sc = (sl + sr) / 2 * 0.6 + sNose * 0.4;
    const a = (sr - sl) / 2, b = (chin - tNose) / 2, tc = (chin + tNose) / 2;
    polygon = [];
    for (let i = 0; i < 40; i++) {
      const th = (2 * Math.PI * i) / 40;
      const c = Math.cos(th), s = Math.sin(th);
      // Squarer at the sides, pointed at the nose.
      const sx = Math.sign(c) * Math.abs(c) ** 0.75, sy = Math.sign(s) * Math.abs(s) ** (s < 0 ? 1.1 : 0.8);
      const narrow = s < 0 ? 1 - 0.25 * Math.abs(s) ** 2 : 1;
      polygon.push(f.toImage(sc + a * sx * narrow, tc + b * sy));
    }
  } else {
    const bottom = lowerContour(f, jr.index, jl.index, style.margin, style.chinDrop, style.kind === 'surgical' ? 0.8 : 0.3);
    polygon = [...topCurve, ...bottom];
  }
  let tMax = -Infinity;
  for (const p of polygon) tMax = Math.max(tMax, f.toFrame(p)[1]);
  const lowerL = jawAt(f, sideT + 0.7, 'left').p, lowerR = jawAt(f, sideT + 0.7, 'right').p;
  return { polygon, top, sMin: sl, sMax: sr, tMax, left: [pl, push(lowerL)], right: [pr, push(lowerR)] };
}

function patternColour(style: MaskStyle, u: number, v: number, px: number, py: number): Rgb {
  const { base, second, third, freq, angle, seed } = style;
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const a = (u * ca + v * sa) * freq;
  switch (style.pattern) {
    case 'stripes':
      return a - Math.floor(a) < 0.45 ? second : base;
    case 'checks': {
      const b = (-u * sa + v * ca) * freq;
      const sa1 = a - Math.floor(a) < 0.5, sb = b - Math.floor(b) < 0.5;
      return sa1 && sb ? second : sa1 || sb ? mix(base, second, 0.5) : base;
    }
    case 'dots': {
      const gu = u * freq * 1.5, gv = v * freq * 1.5 + (Math.floor(u * freq * 1.5) % 2) * 0.5;
      const du = gu - Math.floor(gu) - 0.5, dv = gv - Math.floor(gv) - 0.5;
      return du * du + dv * dv < 0.06 ? second : base;
    }
    case 'print': {
      // Scattered blobs of two colours on a cell grid: flowers, cartoon prints, logos at this scale.
      const gu = u * freq, gv = v * freq;
      const iu = Math.floor(gu), iv = Math.floor(gv);
      const cx = iu + 0.2 + 0.6 * hash2(iu, iv, seed), cy = iv + 0.2 + 0.6 * hash2(iu, iv, seed + 1);
      const r = 0.15 + 0.25 * hash2(iu, iv, seed + 2);
      const d = (gu - cx) ** 2 + (gv - cy) ** 2;
      if (d < r * r) return hash2(iu, iv, seed + 3) < 0.5 ? second : third;
      return base;
    }
    case 'camo': {
      const n = valueNoise(px, py, 6 + 30 / freq, seed) * 0.7 + valueNoise(px, py, 3 + 10 / freq, seed + 5) * 0.3;
      return n < 0.4 ? base : n < 0.6 ? second : third;
    }
    default:
      return base;
  }
}

const mix = (a: Rgb, b: Rgb, w: number): Rgb => [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w];

/** Draws a mask onto a copy of the image. */
export function drawMask(img: RgbImage, pts: Landmarks68, style: MaskStyle): RgbImage {
  const out: RgbImage = { data: new Uint8Array(img.data), width: img.width, height: img.height };
  const f = new FaceFrame(pts);
  const shape = maskShape(f, style);
  const gain = sceneGain(skinSample(img, f).luma);
  const [lx, ly, lz] = style.light;

  // A soft contact shadow just below the mask.
  const shadow = shape.polygon.map((p) => {
    const [s, t] = f.toFrame(p);
    return f.toImage(s, t + 0.06);
  });
  paint(out, polygonCoverage(shadow, out.width, out.height), (_x, _y, c) => ((c[0] = c[1] = c[2] = 0), 0.25));

  const du = shape.sMax - shape.sMin || 1;
  // A centre seam runs down the middle of the face, over the nose and the mouth.
  const seamU = (f.st(51)[0] - shape.sMin) / du;
  const ringCentre = shape.sMin + du * (chanceFromSeed(style.seed) ? 0.3 : 0.7);
  paint(out, polygonCoverage(shape.polygon, out.width, out.height), (x, y, c) => {
    const [s, t] = f.toFrame([x, y]);
    const u = (s - shape.sMin) / du;
    const tTop = shape.top(s);
    const v = Math.max(0, Math.min(1, (t - tTop) / Math.max(0.2, shape.tMax - tTop)));
    // Surface normal: a cylinder round the face, a dome for the N95 cup.
    const xs = 2 * u - 1, ys = 2 * v - 1;
    let nx: number, ny: number, nz: number;
    if (style.kind === 'n95') {
      nx = xs * 0.8; ny = ys * 0.6; nz = Math.sqrt(Math.max(0.05, 1 - nx * nx - ny * ny));
    } else {
      nx = Math.sin(xs * 1.3); ny = ys * 0.25; nz = Math.cos(xs * 1.3);
    }
    const diffuse = Math.max(0, nx * lx + ny * ly + nz * lz) / Math.hypot(nx, ny, nz);
    let shade = 0.62 + 0.45 * diffuse;
    let col = patternColour(style, u, v, x, y);
    if (style.kind === 'surgical') {
      // Three pleats: a gradient across each and a dark fold line.
      const ph = (v - 0.18) * 3.3;
      if (ph > 0 && ph < 3) {
        const fr = ph - Math.floor(ph);
        shade *= 1 - 0.1 * fr;
        if (fr < 0.07) shade *= 0.82;
      }
      // The bound edge.
      if (u < 0.03 || u > 0.97 || v < 0.04) shade *= 1.06;
    }
    if (style.seam) {
      if (Math.abs(u - seamU) < 0.012) shade *= 0.8;
    }
    if (style.valve) {
      const dv = Math.hypot((s - ringCentre) / 0.2, (t - (tTop + shape.tMax) / 2 - 0.1) / 0.2);
      if (dv < 1) {
        col = mix(style.second, [40, 40, 40], 0.3);
        shade = 0.6 + 0.4 * diffuse + (dv > 0.75 ? -0.15 : Math.sin(dv * 18) * 0.06);
      }
    }
    // Fabric grain.
    shade *= 1 + style.grain * (hash2(x | 0, y | 0, style.seed) - 0.5) * 2 + 0.03 * Math.sin(x * 2.3) * Math.sin(y * 2.3);
    const g = gain * shade;
    c[0] = col[0] * g; c[1] = col[1] * g; c[2] = col[2] * g;
    return 1;
  });

  if (style.loops && style.kind !== 'n95') {
    const thick = Math.max(1, f.d * 0.035);
    for (const [side, [a, b]] of [[-1, shape.left], [1, shape.right]] as const) {
      const ear = f.toImage(f.toFrame(a)[0] + side * 0.35, f.toFrame(a)[1] + 0.05);
      const path = [...quadBezier(a, [ear[0], ear[1] - f.d * 0.25], ear), ...quadBezier(ear, [ear[0], ear[1] + f.d * 0.35], b).slice(1)];
      paint(out, strokeCoverage(path, thick, out.width, out.height), (_x, _y, c) => {
        c[0] = style.loopColour[0] * gain; c[1] = style.loopColour[1] * gain; c[2] = style.loopColour[2] * gain;
        return 0.9;
      });
    }
  } else if (style.kind === 'n95' && style.loops) {
    // Head straps run back over the cheeks towards the ears.
    const thick = Math.max(1, f.d * 0.05);
    for (const [side, [a, b]] of [[-1, shape.left], [1, shape.right]] as const) {
      for (const p of [a, b]) {
        const [s, t] = f.toFrame(p);
        const path = [p, f.toImage(s + side * 0.6, t - 0.15)];
        paint(out, strokeCoverage(path, thick, out.width, out.height), (_x, _y, c) => {
          c[0] = style.loopColour[0] * gain * 0.9; c[1] = style.loopColour[1] * gain * 0.9; c[2] = style.loopColour[2] * gain * 0.9;
          return 0.95;
        });
      }
    }
  }
  return out;
}

const chanceFromSeed = (seed: number) => hash2(seed, 7, 11) < 0.5;

// ---------------------------------------------------------------------------------------------------
// Hard negatives

/** Draws a non-mask occluder onto a copy of the image. */
export function drawOccluder(img: RgbImage, pts: Landmarks68, kind: OccluderKind, rng: Rng): RgbImage {
  const out: RgbImage = { data: new Uint8Array(img.data), width: img.width, height: img.height };
  const f = new FaceFrame(pts);
  const skin = skinSample(img, f);
  const gain = sceneGain(skin.luma);
  const W = out.width, H = out.height;
  const seed = Math.floor(rng() * 1e9);
  switch (kind) {
    case 'hand': {
      // A palm with four fingers, skin-coloured, over the chin, one cheek or part of the mouth.
      const colour = jitterColour(rng, skin.colour, 0.1);
      const place = pick(rng, ['chin', 'cheek', 'mouth_side', 'jaw'] as const);
      const side = chance(rng, 0.5) ? -1 : 1;
      const [cs, ct] =
        place === 'chin' ? [uniform(rng, -0.3, 0.3), f.st(8)[1] + uniform(rng, 0.1, 0.4)]
        : place === 'cheek' ? [side * uniform(rng, 0.7, 1.0), uniform(rng, 0.6, 1.0)]
        : place === 'mouth_side' ? [side * uniform(rng, 0.65, 0.9), uniform(rng, 1.1, 1.4)]
        : [side * uniform(rng, 0.8, 1.1), uniform(rng, 1.3, 1.7)];
      const rot = Math.atan2(f.ex[1], f.ex[0]) + (place === 'chin' ? uniform(rng, -0.5, 0.5) : side * uniform(rng, 0.6, 1.4));
      const size = uniform(rng, 0.7, 1.0) * f.d;
      const c = f.toImage(cs, ct);
      const parts: Coverage[] = [polygonCoverage(ellipsePolygon(c, size * 0.55, size * 0.45, rot), W, H)];
      const dir: Point = [Math.cos(rot - Math.PI / 2), Math.sin(rot - Math.PI / 2)];
      const perp: Point = [-dir[1], dir[0]];
      for (let i = 0; i < 4; i++) {
        const off = (i - 1.5) * size * 0.22;
        const len = size * uniform(rng, 0.55, 0.85);
        const a: Point = [c[0] + perp[0] * off + dir[0] * size * 0.3, c[1] + perp[1] * off + dir[1] * size * 0.3];
        parts.push(strokeCoverage([a, [a[0] + dir[0] * len, a[1] + dir[1] * len]], size * 0.2, W, H));
      }
      const cov = unionCoverage(parts);
      paint(out, cov, (x, y, col) => {
        const n = 0.92 + 0.08 * valueNoise(x, y, f.d * 0.3, seed);
        const g = gain * n;
        col[0] = colour[0] * g; col[1] = colour[1] * g; col[2] = colour[2] * g;
        return 1;
      });
      break;
    }
    case 'scarf_chin':
    case 'mask_on_chin': {
      // Cloth over the chin and neck only: the mouth stays visible.
      const top = f.st(57)[1] + uniform(rng, 0.1, kind === 'scarf_chin' ? 0.35 : 0.3);
      const jl = jawAt(f, top, 'left'), jr = jawAt(f, top, 'right');
      const bottom = lowerContour(f, jr.index, jl.index, uniform(rng, 0.03, 0.1), uniform(rng, 0.2, 0.6), 0.5);
      const style = kind === 'mask_on_chin' ? sampleMaskStyle(rng, 'train', pick(rng, ['surgical', 'cloth'] as const)) : { ...sampleMaskStyle(rng, 'train', 'cloth'), base: clothColour(rng, 'train') };
      const [sl] = f.toFrame(jl.p), [sr] = f.toFrame(jr.p);
      const poly: Point[] = [jl.p, ...Array.from({ length: 9 }, (_, i) => f.toImage(sl + ((sr - sl) * (i + 1)) / 10, top + uniform(rng, -0.03, 0.03))), jr.p, ...bottom];
      const du = sr - sl || 1;
      paint(out, polygonCoverage(poly, W, H), (x, y, c) => {
        const [s, t] = f.toFrame([x, y]);
        const u = (s - sl) / du, v = Math.max(0, Math.min(1, (t - top) / 0.8));
        const col = patternColour(style, u, v, x, y);
        const g = gain * (0.7 + 0.3 * Math.cos((2 * u - 1) * 1.2)) * (1 + style.grain * (hash2(x | 0, y | 0, seed) - 0.5) * 2);
        c[0] = col[0] * g; c[1] = col[1] * g; c[2] = col[2] * g;
        return 1;
      });
      break;
    }
    case 'beard': {
      // Dark, streaky hair over the jaw, chin and upper lip, lips left clear.
      const tone = pick(rng, [[30, 22, 18], [55, 40, 30], [20, 20, 22], [95, 80, 70], [120, 110, 105]] as const);
      const level = f.st(33)[1] + uniform(rng, -0.05, 0.1);
      const jl = jawAt(f, level, 'left'), jr = jawAt(f, level, 'right');
      const bottom = lowerContour(f, jr.index, jl.index, uniform(rng, 0, 0.05), uniform(rng, 0, 0.15), 0.1);
      const cov = polygonCoverage([jl.p, f.toImage(0, level), jr.p, ...bottom], W, H);
      const lips = polygonCoverage(
        [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59].map((i) => pts[i]),
        W,
        H,
      );
      const density = uniform(rng, 0.5, 0.9);
      const ang = Math.atan2(f.ey[1], f.ey[0]);
      const ca = Math.cos(ang), sa = Math.sin(ang);
      paint(out, cov, (x, y, c) => {
        const lx = Math.floor(x) - lips.x0, ly = Math.floor(y) - lips.y0;
        const onLips = lx >= 0 && ly >= 0 && lx < lips.w && ly < lips.h ? lips.a[ly * lips.w + lx] : 0;
        // Streaks: noise stretched along the face's vertical.
        const along = x * ca + y * sa, across = -x * sa + y * ca;
        const n = hash2(Math.floor(across), Math.floor(along / 4), seed);
        const [, t] = f.toFrame([x, y]);
        const fade = Math.min(1, Math.max(0, (t - level) / 0.15));
        const g = 0.6 + 0.8 * n;
        c[0] = tone[0] * g; c[1] = tone[1] * g; c[2] = tone[2] * g;
        return density * fade * (0.5 + 0.5 * n) * (1 - onLips);
      });
      break;
    }
    case 'object': {
      // A phone, a cup or a microphone held at the side of the lower face.
      const what = pick(rng, ['phone', 'cup', 'mic', 'bar'] as const);
      const side = chance(rng, 0.5) ? -1 : 1;
      const c = f.toImage(side * uniform(rng, 0.6, 1.1), uniform(rng, 0.9, 1.9));
      const colour = chance(rng, 0.5) ? hsv(trainHue(rng), uniform(rng, 0, 0.9), uniform(rng, 0.1, 0.9)) : hsv(0, 0, uniform(rng, 0.05, 0.3));
      const rot = uniform(rng, -0.8, 0.8);
      let poly: Point[];
      if (what === 'phone') {
        const w = f.d * uniform(rng, 0.45, 0.6), h = f.d * uniform(rng, 0.9, 1.2);
        poly = [[-w, -h], [w, -h], [w, h], [-w, h]].map(([x, y]) => [c[0] + x * Math.cos(rot) - y * Math.sin(rot), c[1] + x * Math.sin(rot) + y * Math.cos(rot)] as Point);
      } else if (what === 'cup') {
        const w = f.d * uniform(rng, 0.35, 0.5), h = f.d * uniform(rng, 0.5, 0.7);
        poly = [[-w, -h], [w, -h], [w * 0.8, h], [-w * 0.8, h]].map(([x, y]) => [c[0] + x, c[1] + y] as Point);
      } else if (what === 'mic') {
        poly = ellipsePolygon(c, f.d * 0.28, f.d * 0.28);
      } else {
        const len = f.d * 1.2, th = f.d * 0.12;
        poly = [[-len, -th], [len, -th], [len, th], [-len, th]].map(([x, y]) => [c[0] + x * Math.cos(rot) - y * Math.sin(rot), c[1] + x * Math.sin(rot) + y * Math.cos(rot)] as Point);
      }
      paint(out, polygonCoverage(poly, W, H), (x, y, col) => {
        const g = gain * (0.75 + 0.35 * valueNoise(x, y, f.d * 0.5, seed));
        col[0] = colour[0] * g; col[1] = colour[1] * g; col[2] = colour[2] * g;
        return 1;
      });
      break;
    }
    case 'sunglasses': {
      const tint = hsv(trainHue(rng), uniform(rng, 0, 0.5), uniform(rng, 0.03, 0.25));
      const rot = Math.atan2(f.ex[1], f.ex[0]);
      const l = meanOf(pts, [36, 37, 38, 39, 40, 41]), r = meanOf(pts, [42, 43, 44, 45, 46, 47]);
      const rx = f.d * uniform(rng, 0.28, 0.36), ry = f.d * uniform(rng, 0.2, 0.28);
      const cov = unionCoverage([
        polygonCoverage(ellipsePolygon(l, rx, ry, rot), W, H),
        polygonCoverage(ellipsePolygon(r, rx, ry, rot), W, H),
        strokeCoverage([f.toImage(-0.2, -0.05), f.toImage(0.2, -0.05)], f.d * 0.05, W, H),
      ]);
      paint(out, cov, (x, y, c) => {
        const hl = valueNoise(x, y, f.d * 0.4, seed) > 0.8 ? 60 : 0;
        c[0] = tint[0] + hl; c[1] = tint[1] + hl; c[2] = tint[2] + hl;
        return 0.93;
      });
      break;
    }
  }
  return out;
}
