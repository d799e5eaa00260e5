import { seededRng } from '../../seeded-random.js';
import sharp, { type Sharp } from 'sharp';
import { boxHeight, boxWidth, type Box } from '../../geometry/box.js';
import type { Point } from '../../geometry/similarity.js';
import type { RgbImage } from '../../image/rgb-image.js';
import type { Landmarks68 } from '../landmarks.js';

/**
 * Controlled degradations of real face photos, with a known direction of change for each quality
 * signal (blur lowers sharpness, darkening lowers illumination, …) and print-like re-captures for the
 * liveness evaluation. Tests and evals use them; no service calls them. Random parts take a seed, so a
 * degradation is a pure function of its arguments.
 */

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

const fromSharp = async (s: Sharp): Promise<RgbImage> => {
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
};
const toSharp = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });


function mapPixels(img: RgbImage, f: (r: number, g: number, b: number, x: number, y: number) => [number, number, number]): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0, i = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++, i += 3) {
      const [r, g, b] = f(img.data[i], img.data[i + 1], img.data[i + 2], x, y);
      out[i] = clamp(r); out[i + 1] = clamp(g); out[i + 2] = clamp(b);
    }
  }
  return { data: out, width: img.width, height: img.height };
}

export const gaussianBlur = (img: RgbImage, sigma: number) => (sigma < 0.3 ? Promise.resolve(img) : fromSharp(toSharp(img).blur(sigma)));

/** Linear exposure change in linear-ish 8-bit values: gain < 1 darkens, > 1 over-exposes (clipping at 255). */
export const exposure = (img: RgbImage, gain: number) => mapPixels(img, (r, g, b) => [r * gain, g * gain, b * gain]);

/** Additive white Gaussian noise of standard deviation `sigma` grey levels, per channel. */
export function gaussianNoise(img: RgbImage, sigma: number, seed = 1): RgbImage {
  const rnd = seededRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  return mapPixels(img, (r, g, b) => [r + sigma * gauss(), g + sigma * gauss(), b + sigma * gauss()]);
}

/** In-plane rotation about the image centre; the canvas grows to hold the rotated image (corners mid-grey). */
export const rotate = (img: RgbImage, degrees: number) =>
  degrees === 0 ? Promise.resolve(img) : fromSharp(toSharp(img).rotate(degrees, { background: { r: 128, g: 128, b: 128 } }));

export const jpeg = async (img: RgbImage, quality: number) => fromSharp(sharp(await toSharp(img).jpeg({ quality }).toBuffer()));

/** Crops the image so that `fraction` of the face box's width (or height, for top/bottom) falls outside it. */
export function cutFace(img: RgbImage, box: Box, fraction: number, side: 'left' | 'right' | 'top' | 'bottom'): Promise<RgbImage> {
  const w = boxWidth(box), h = boxHeight(box);
  let x1 = 0, y1 = 0, x2 = img.width, y2 = img.height;
  if (side === 'left') x1 = Math.round(box.x1 + fraction * w);
  if (side === 'right') x2 = Math.round(box.x2 - fraction * w);
  if (side === 'top') y1 = Math.round(box.y1 + fraction * h);
  if (side === 'bottom') y2 = Math.round(box.y2 - fraction * h);
  x1 = Math.max(0, x1); y1 = Math.max(0, y1); x2 = Math.min(img.width, x2); y2 = Math.min(img.height, y2);
  return fromSharp(toSharp(img).extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 }));
}

/** Even-odd polygon fill with alpha, blending `colour` over the image in place. */
function fillPolygon(data: Uint8Array, width: number, height: number, poly: readonly Point[], colour: readonly number[], alpha = 1): void {
  const ys = poly.map((p) => p[1]);
  const y0 = Math.max(0, Math.floor(Math.min(...ys))), y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  for (let y = y0; y <= y1; y++) {
    const sy = y + 0.5;
    const xs: number[] = [];
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xa, ya] = poly[j], [xb, yb] = poly[i];
      if (ya <= sy !== yb <= sy) xs.push(xa + ((sy - ya) * (xb - xa)) / (yb - ya));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x <= Math.min(width - 1, Math.floor(xs[k + 1] - 0.5)); x++) {
        const o = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = clamp(data[o + c] * (1 - alpha) + colour[c] * alpha);
      }
    }
  }
}

/**
 * A surgical-mask-like occluder: a flat light-blue (or given colour) polygon from the jaw line (iBUG
 * points 1–15) up to the nose bridge (point 29), with a soft shading gradient so it is not perfectly flat.
 */
export function syntheticMask(img: RgbImage, pts: Landmarks68, colour: readonly number[] = [150, 196, 222]): RgbImage {
  const data = new Uint8Array(img.data);
  const bridge = pts[29];
  const poly: Point[] = [pts[1], ...pts.slice(2, 15), pts[15], [pts[15][0], bridge[1]], bridge, [pts[1][0], bridge[1]]];
  fillPolygon(data, img.width, img.height, poly, colour);
  return { data, width: img.width, height: img.height };
}

/** Closes the eyes: each eye's lid polygon (iBUG 36–41 / 42–47), enlarged, painted with the skin just below it, plus a dark lash line. */
export function closeEyes(img: RgbImage, pts: Landmarks68): RgbImage {
  const data = new Uint8Array(img.data);
  for (const idx of [[36, 37, 38, 39, 40, 41], [42, 43, 44, 45, 46, 47]]) {
    const eye = idx.map((i) => pts[i]);
    const cx = eye.reduce((s, p) => s + p[0], 0) / 6, cy = eye.reduce((s, p) => s + p[1], 0) / 6;
    const width = Math.abs(eye[3][0] - eye[0][0]);
    // Skin colour from a patch about one eye-width below the eye centre.
    const sx = Math.round(cx), sy = Math.round(cy + 0.8 * width);
    const skin = [0, 0, 0];
    let n = 0;
    for (let y = sy - 2; y <= sy + 2; y++) for (let x = sx - 2; x <= sx + 2; x++) {
      if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
      const o = (y * img.width + x) * 3;
      skin[0] += img.data[o]; skin[1] += img.data[o + 1]; skin[2] += img.data[o + 2];
      n++;
    }
    if (n === 0) continue;
    const colour = skin.map((v) => v / n);
    const grown = eye.map(([x, y]) => [cx + (x - cx) * 1.35, cy + (y - cy) * 2.2] as Point);
    fillPolygon(data, img.width, img.height, grown, colour);
    const t = Math.max(1, width * 0.06);
    const lash: Point[] = [[eye[0][0], cy - t / 2], [eye[3][0], cy - t / 2], [eye[3][0], cy + t / 2], [eye[0][0], cy + t / 2]];
    fillPolygon(data, img.width, img.height, lash, colour.map((v) => v * 0.35));
  }
  return { data, width: img.width, height: img.height };
}

/** 5×7 bitmaps of the letters of "SAMPLE COPY", the text of the synthetic watermark. */
const GLYPHS: Record<string, string[]> = {
  S: ['01111', '10000', '10000', '01110', '00001', '00001', '11110'],
  A: ['01110', '10001', '10001', '11111', '10001', '10001', '10001'],
  M: ['10001', '11011', '10101', '10101', '10001', '10001', '10001'],
  P: ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
  L: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
  E: ['11111', '10000', '10000', '11110', '10000', '10000', '11111'],
  C: ['01111', '10000', '10000', '10000', '10000', '10000', '01111'],
  O: ['01110', '10001', '10001', '10001', '10001', '10001', '01110'],
  Y: ['10001', '10001', '01010', '00100', '00100', '00100', '00100'],
  ' ': ['00000', '00000', '00000', '00000', '00000', '00000', '00000'],
};

/**
 * A semi-transparent text watermark ("SAMPLE COPY", white at `alpha`) in rows across the face box and
 * its surroundings, the way stock-photo previews are marked. Letter height is ≈ 1/6 of the face box.
 */
export function textWatermark(img: RgbImage, box: Box, alpha = 0.4, colour: readonly number[] = [255, 255, 255]): RgbImage {
  const data = new Uint8Array(img.data);
  const cell = Math.max(1, Math.round(boxHeight(box) / 6 / 7));
  const text = 'SAMPLE COPY ';
  const rowStep = 11 * cell;
  const x0 = Math.round(box.x1 - boxWidth(box) * 0.5), x1 = Math.round(box.x2 + boxWidth(box) * 0.5);
  for (let row = 0, y = Math.round(box.y1 - boxHeight(box) * 0.3); y < box.y2 + boxHeight(box) * 0.3; row++, y += rowStep) {
    let x = x0 - ((row * 17 * cell) % (6 * cell * 4));
    for (let k = 0; x < x1; k++, x += 6 * cell) {
      const glyph = GLYPHS[text[k % text.length]];
      for (let gy = 0; gy < 7; gy++) for (let gx = 0; gx < 5; gx++) {
        if (glyph[gy][gx] !== '1') continue;
        for (let py = 0; py < cell; py++) for (let px = 0; px < cell; px++) {
          const xx = x + gx * cell + px, yy = y + gy * cell + py;
          if (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height) continue;
          const o = (yy * img.width + xx) * 3;
          for (let c = 0; c < 3; c++) data[o + c] = clamp(data[o + c] * (1 - alpha) + colour[c] * alpha);
        }
      }
    }
  }
  return { data, width: img.width, height: img.height };
}

/**
 * Replaces everything outside an ellipse around the face (box ×1.25) within box ×2.5 by a cluttered,
 * high-contrast texture (random coloured bars), as a busy background would look.
 */
export function clutterBackground(img: RgbImage, box: Box, seed = 7): RgbImage {
  const data = new Uint8Array(img.data);
  const rnd = seededRng(seed);
  const cx = (box.x1 + box.x2) / 2, cy = (box.y1 + box.y2) / 2;
  const w = boxWidth(box), h = boxHeight(box);
  const bars = Array.from({ length: 40 }, () => ({
    x: cx + (rnd() - 0.5) * 2.5 * w, y: cy + (rnd() - 0.5) * 2.5 * h,
    bw: (0.05 + 0.25 * rnd()) * w, bh: (0.05 + 0.4 * rnd()) * h,
    colour: [rnd() * 255, rnd() * 255, rnd() * 255],
  }));
  for (let y = Math.max(0, Math.floor(cy - 1.25 * h)); y < Math.min(img.height, cy + 1.25 * h); y++) {
    for (let x = Math.max(0, Math.floor(cx - 1.25 * w)); x < Math.min(img.width, cx + 1.25 * w); x++) {
      const dx = (x - cx) / (0.625 * w), dy = (y - cy) / (0.625 * h);
      if (dx * dx + dy * dy <= 1 || y > box.y2) continue; // keep the face and everything below the chin
      const o = (y * img.width + x) * 3;
      const hit = bars.find((b) => Math.abs(x - b.x) < b.bw / 2 && Math.abs(y - b.y) < b.bh / 2);
      const c = hit ? hit.colour : (Math.floor(x / 6) + Math.floor(y / 6)) % 2 ? [30, 30, 30] : [225, 225, 225];
      data[o] = c[0]; data[o + 1] = c[1]; data[o + 2] = c[2];
    }
  }
  return { data, width: img.width, height: img.height };
}

// -------------------------------------------------------------------------------------------------
// Print-like re-captures of a real face photo, for the liveness evaluation's harder set. Each mimics one
// artefact family of a printed photo held up to a camera; none is a real attack.

export type RecaptureKind = 'print' | 'halftone' | 'moire' | 'border';
export const RecaptureKinds: readonly RecaptureKind[] = ['print', 'halftone', 'moire', 'border'];

/** Paper cannot reproduce the camera's range: black ink reflects, white paper is not a light source. */
const paper = (v: number, black: number, white: number) => black + (v * (white - black)) / 255;

/**
 * The re-capturing camera's auto exposure: stretches the frame's 0.5th…99.5th grey percentiles back to
 * 0…255, so the paper's compressed range is not left as an easy give-away.
 */
function autoLevels(img: RgbImage): RgbImage {
  const hist = new Float64Array(256);
  for (let i = 0; i < img.data.length; i += 3) hist[Math.round(0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2])]++;
  const n = img.data.length / 3;
  let lo = 0, hi = 255, acc = 0;
  for (let v = 0; v < 256; v++) { acc += hist[v]; if (acc >= 0.005 * n) { lo = v; break; } }
  acc = 0;
  for (let v = 255; v >= 0; v--) { acc += hist[v]; if (acc >= 0.005 * n) { hi = v; break; } }
  const k = 255 / Math.max(1, hi - lo);
  return mapPixels(img, (r, g, b) => [(r - lo) * k, (g - lo) * k, (b - lo) * k]);
}

export async function recapture(img: RgbImage, kind: RecaptureKind): Promise<RgbImage> {
  switch (kind) {
    case 'print': {
      // Matte print: softened (print resolution, refocus), compressed range and warm paper cast, then
      // re-exposed by the camera, JPEG 30.
      const soft = await gaussianBlur(img, 1.5);
      return jpeg(autoLevels(mapPixels(soft, (r, g, b) => [paper(r, 36, 220), paper(g, 35, 216), paper(b, 30, 200)])), 30);
    }
    case 'halftone': {
      // Halftone dot screen (period 5 px at 15°) modulating the reflectance, slight blur, re-exposed, JPEG 60.
      const a = (15 * Math.PI) / 180, per = 5, c = Math.cos(a), s = Math.sin(a);
      const screened = mapPixels(img, (r, g, b, x, y) => {
        const u = ((c * x + s * y) * 2 * Math.PI) / per, v = ((-s * x + c * y) * 2 * Math.PI) / per;
        const k = 0.72 + 0.07 * (2 + Math.cos(u) + Math.cos(v));
        return [paper(r, 25, 224) * k, paper(g, 25, 224) * k, paper(b, 25, 224) * k];
      });
      return jpeg(autoLevels(await gaussianBlur(screened, 0.8)), 60);
    }
    case 'moire': {
      // Gamma 1.5 (print tone curve) times a beat pattern of two close gratings, JPEG 30.
      return jpeg(
        mapPixels(img, (r, g, b, x, y) => {
          const m = 1 + 0.12 * Math.sin(2 * Math.PI * (x * 0.31 + y * 0.07)) * Math.sin(2 * Math.PI * (x * 0.29 + y * 0.09));
          const gm = (v: number) => 255 * Math.pow(v / 255, 1.5) * m;
          return [gm(r), gm(g), gm(b)];
        }),
        30,
      );
    }
    case 'border': {
      // The photo (80 % size, compressed range) on white paper with a border, held in front of a darker,
      // defocused copy of the scene.
      const { width: w, height: h } = img;
      const sw = Math.round(w * 0.8), sh = Math.round(h * 0.8);
      const small = await fromSharp(toSharp(img).resize(sw, sh));
      const surround = await fromSharp(toSharp(img).blur(12).linear(0.6, 0));
      const out = new Uint8Array(surround.data);
      const ox = Math.round((w - sw) / 2), oy = Math.round((h - sh) / 2), bd = Math.round(0.03 * w);
      for (let y = Math.max(0, oy - bd); y < Math.min(h, oy + sh + bd); y++) {
        for (let x = Math.max(0, ox - bd); x < Math.min(w, ox + sw + bd); x++) {
          const o = (y * w + x) * 3;
          if (x >= ox && x < ox + sw && y >= oy && y < oy + sh) {
            const i = ((y - oy) * sw + (x - ox)) * 3;
            for (let ch = 0; ch < 3; ch++) out[o + ch] = clamp(paper(small.data[i + ch], 30, 222));
          } else {
            out[o] = 232; out[o + 1] = 230; out[o + 2] = 222;
          }
        }
      }
      return jpeg({ data: out, width: w, height: h }, 70);
    }
  }
}
