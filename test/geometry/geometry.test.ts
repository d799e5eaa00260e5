import { describe, expect, it } from 'vitest';
import { iou, shiftInside, type Box } from '../../shared/geometry/box.js';
import { nms } from '../../shared/geometry/nms.js';
import { applyAffine, estimateSimilarity, invertAffine, type Point } from '../../shared/geometry/similarity.js';
import { cropResize, cropTransform, warpAffine } from '../../shared/image/warp.js';
import { seededRng } from '../../shared/seeded-random.js';

const box = (x1: number, y1: number, x2: number, y2: number): Box => ({ x1, y1, x2, y2 });

describe('boxes and NMS', () => {
  it('computes IoU', () => {
    expect(iou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(iou(box(0, 0, 10, 10), box(5, 0, 15, 10))).toBeCloseTo(50 / 150);
    expect(iou(box(0, 0, 10, 10), box(20, 20, 30, 30))).toBe(0);
  });

  it('keeps the strongest of overlapping boxes and every separate one', () => {
    const kept = nms(
      [
        { box: box(0, 0, 10, 10), score: 0.8 },
        { box: box(1, 1, 11, 11), score: 0.9 },
        { box: box(50, 50, 60, 60), score: 0.5 },
      ],
      0.3,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.5]);
  });

  it('shifts a box inside the image without resizing it', () => {
    expect(shiftInside(box(-5, 90, 15, 110), 100, 100)).toEqual(box(0, 80, 20, 100));
  });
});

describe('similarity estimation', () => {
  it('recovers a known rotation, scale and translation exactly', () => {
    const angle = 0.3, s = 1.7, tx = 12, ty = -4;
    const src: Point[] = [[0, 0], [10, 2], [3, 9], [7, 7], [1, 5]];
    const dst = src.map(([x, y]) => [s * (Math.cos(angle) * x - Math.sin(angle) * y) + tx, s * (Math.sin(angle) * x + Math.cos(angle) * y) + ty] as Point);
    const m = estimateSimilarity(src, dst);
    for (let i = 0; i < src.length; i++) {
      const [x, y] = applyAffine(m, src[i]);
      expect(x).toBeCloseTo(dst[i][0], 9);
      expect(y).toBeCloseTo(dst[i][1], 9);
    }
    const back = applyAffine(invertAffine(m), dst[2]);
    expect(back[0]).toBeCloseTo(src[2][0], 9);
  });
});

describe('warpAffine', () => {
  it('reproduces an image under the identity and reads black outside it', () => {
    const data = new Uint8Array(4 * 3 * 3).map((_, i) => (i * 7) % 256);
    const img = { data, width: 4, height: 3 };
    expect([...warpAffine(img, [1, 0, 0, 0, 1, 0], 4, 3)]).toEqual([...data]);
    const shifted = warpAffine(img, [1, 0, -10, 0, 1, 0], 2, 2);
    expect([...shifted]).toEqual(new Array(12).fill(0));
  });

  it('averages when shrinking, so a fine checkerboard becomes mid-grey instead of aliasing', () => {
    const w = 64;
    const data = new Uint8Array(w * w * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = warpAffine({ data, width: w, height: w }, [8, 0, 0, 0, 8, 0], 8, 8);
    for (const v of out) expect(Math.abs(v - 128)).toBeLessThan(40);
  });

  it('the separable crop gives the general warp pixels (to ±1 of rounding) for shrinks, zooms and crops past the edge', () => {
    const random = seededRng(7);
    const img = { data: new Uint8Array(97 * 61 * 3).map(() => Math.floor(random() * 256)), width: 97, height: 61 };
    const cases: [number, number, number, number, number, number][] = [
      [0, 0, 97, 61, 20, 13], // 4.8× shrink: 4 × 4 sub-samples
      [10.5, 7.25, 40, 33, 64, 64], // zoom
      [-20, -10, 80, 70, 32, 32], // past the top-left edge
      [60, 40, 80, 50, 17, 11], // past the bottom-right edge
      [3, 2, 90, 55, 45, 27], // 2× shrink
    ];
    for (const [x, y, w, h, ow, oh] of cases) {
      const fast = cropResize(img, x, y, w, h, ow, oh);
      const general = warpAffine(img, cropTransform(x, y, w, h, ow, oh), ow, oh);
      let off = 0;
      for (let i = 0; i < fast.length; i++) {
        expect(Math.abs(fast[i] - general[i])).toBeLessThanOrEqual(1);
        if (fast[i] !== general[i]) off++;
      }
      expect(off / fast.length).toBeLessThan(0.01);
    }
  });
});
