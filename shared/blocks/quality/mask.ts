import type { RgbImage } from '../../image/rgb-image.js';
import { ALIGNED } from './photometric.js';
import { median } from './image-ops.js';

/**
 * The not-masked signal. `MaskSignal` is what the assessor needs: p(mask) for one face given its
 * 112×112 ArcFace-aligned crop. Two sources implement it: the trained mask classifier
 * (shared/blocks/mask-classifier.ts) when its probe file is installed, else the colour heuristic below.
 */
export interface MaskSignal {
  readonly source: string;
  pMask(img: RgbImage, aligned: Uint8Array, five: readonly (readonly [number, number])[]): Promise<number>;
}

type Rect = readonly [number, number, number, number];

/** Aligned-crop regions [x0, y0, x1, y1): skin a mask leaves bare (forehead, below the eyes' outer corners)… */
const REFERENCE: Rect[] = [[36, 18, 76, 34], [26, 56, 40, 61], [72, 56, 86, 61]];
/** …and what a worn mask covers (nose below the bridge, lower cheeks, chin; not the lips, whose colour varies). */
const COVERED: Rect[] = [[46, 64, 66, 78], [24, 74, 40, 92], [72, 74, 88, 92], [40, 100, 72, 110]];

function chroma(p: Uint8Array, rects: Rect[]): { y: number[]; cb: number[]; cr: number[] } {
  const y: number[] = [], cb: number[] = [], cr: number[] = [];
  for (const [x0, y0, x1, y1] of rects) {
    for (let v = y0; v < y1; v++) {
      for (let u = x0; u < x1; u++) {
        const o = (v * ALIGNED + u) * 3;
        const r = p[o], g = p[o + 1], b = p[o + 2];
        y.push(0.299 * r + 0.587 * g + 0.114 * b);
        cb.push(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        cr.push(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
  }
  return { y, cb, cr };
}

/**
 * Model-free alternative: the share of the covered region whose chroma (YCbCr Cb, Cr) lies within reach
 * of the reference skin's median chroma (radius 10, or 3× the reference's own median spread if larger)
 * and whose luma is between 0.4 × and 1.15 × the reference's (± a margin). Bare lower faces are mostly
 * skin-coloured like the forehead; surgical, cloth and N95 masks are not. p(mask) = 1 − ramp(share,
 * 0.15, 0.55). Blind to skin-coloured masks; confused by thick beards, coloured light on half the face,
 * hair over the forehead. Checked on synthetic masks only (test/blocks/quality.test.ts).
 */
export const heuristicMaskSignal: MaskSignal = {
  source: 'heuristic: lower-face skin-chroma share',
  async pMask(_img, aligned) {
    const ref = chroma(aligned, REFERENCE);
    const y0 = median(ref.y), cb0 = median(ref.cb), cr0 = median(ref.cr);
    // The radius adapts to how varied the reference skin itself is (lighting, make-up), never below 10.
    const radius = Math.max(10, 3 * median(ref.cb.map((b, i) => Math.hypot(b - cb0, ref.cr[i] - cr0))));
    const low = chroma(aligned, COVERED);
    let skin = 0;
    for (let i = 0; i < low.cb.length; i++) {
      // Shadowed skin is darker but not brighter than lit skin: a white mask fails the second bound.
      const lumaOk = low.y[i] > 0.4 * y0 - 10 && low.y[i] < 1.15 * y0 + 12;
      if (lumaOk && Math.hypot(low.cb[i] - cb0, low.cr[i] - cr0) < radius) skin++;
    }
    const share = skin / low.cb.length;
    return 1 - Math.min(1, Math.max(0, (share - 0.15) / 0.4));
  },
};
