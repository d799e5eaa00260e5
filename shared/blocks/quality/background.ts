import { boxHeight, boxWidth, type Box } from '../../geometry/box.js';
import type { RgbImage } from '../../image/rgb-image.js';
import { cropResize } from '../../image/warp.js';
import { median } from './image-ops.js';

/**
 * Background uniformity: how plain the surroundings of the head are. The region is a window around the
 * face (3× the box width, from 1.2 box heights above its top down to the chin line), minus an ellipse
 * that holds the head and hair, minus everything below the chin (neck, clothes). It is resampled to at
 * most 96 px and cut into 4×4-px cells; two numbers describe it:
 * - texture: the median within-cell grey standard deviation (clutter, edges, patterns);
 * - spread: the standard deviation of the cell means in grey and in colour (objects of different
 *   brightness or hue; a smooth lighting gradient adds little).
 */

const SIDE = 96;
const CELL = 4;

export interface BackgroundStats {
  texture: number;
  spread: number;
  /** Share of the background window that lies inside the image, 0..1. */
  visible: number;
}

export function backgroundStats(img: RgbImage, box: Box): BackgroundStats {
  const w = boxWidth(box), h = boxHeight(box);
  const cx = (box.x1 + box.x2) / 2;
  const win = { x1: cx - 1.5 * w, y1: box.y1 - 1.2 * h, x2: cx + 1.5 * w, y2: box.y2 };
  const ww = win.x2 - win.x1, wh = win.y2 - win.y1;
  const scale = SIDE / Math.max(ww, wh);
  const ow = Math.max(CELL, Math.round(ww * scale)), oh = Math.max(CELL, Math.round(wh * scale));
  const patch = cropResize(img, win.x1, win.y1, ww, wh, ow, oh);
  // Head ellipse in window coordinates: from above the hair line to the chin, a little wider than the box.
  const ex = (cx - win.x1) * scale, ey = (box.y1 + 0.35 * h - win.y1) * scale;
  const rx = 0.8 * w * scale, ry = 0.95 * h * scale;
  const cells: { y: number; cb: number; cr: number; sd: number }[] = [];
  let inside = 0, total = 0;
  for (let cy0 = 0; cy0 + CELL <= oh; cy0 += CELL) {
    for (let cx0 = 0; cx0 + CELL <= ow; cx0 += CELL) {
      const mx = cx0 + CELL / 2, my = cy0 + CELL / 2;
      const dx = (mx - ex) / rx, dy = (my - ey) / ry;
      if (dx * dx + dy * dy <= 1) continue;
      total++;
      // Cells outside the image read black from the warp: not background, just absent.
      const sx = win.x1 + mx / scale, sy = win.y1 + my / scale;
      if (sx < 0 || sy < 0 || sx >= img.width || sy >= img.height) continue;
      inside++;
      let s = 0, ss = 0, cb = 0, cr = 0;
      for (let y = cy0; y < cy0 + CELL; y++) {
        for (let x = cx0; x < cx0 + CELL; x++) {
          const o = (y * ow + x) * 3;
          const r = patch[o], g = patch[o + 1], b = patch[o + 2];
          const l = 0.299 * r + 0.587 * g + 0.114 * b;
          s += l; ss += l * l;
          cb += b - l; cr += r - l;
        }
      }
      const n = CELL * CELL, m = s / n;
      cells.push({ y: m, cb: cb / n, cr: cr / n, sd: Math.sqrt(Math.max(0, ss / n - m * m)) });
    }
  }
  if (cells.length < 4) return { texture: 0, spread: 0, visible: total ? inside / total : 0 };
  const sd = (values: number[]) => {
    const m = values.reduce((a, v) => a + v, 0) / values.length;
    return Math.sqrt(values.reduce((a, v) => a + (v - m) * (v - m), 0) / values.length);
  };
  return {
    texture: median(cells.map((c) => c.sd)),
    spread: Math.hypot(sd(cells.map((c) => c.y)), 0.5 * sd(cells.map((c) => c.cb)), 0.5 * sd(cells.map((c) => c.cr))),
    visible: inside / total,
  };
}
