import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postImage, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { demoPhoto } from '../support/fixtures.js';

/**
 * An image over MAX_IMAGE_PIXELS (but within MAX_INPUT_PIXELS) is downscaled while it decodes; the
 * answer must still be in the original image's coordinates.
 */
let full: ServerProcess;
let small: ServerProcess;

beforeAll(async () => {
  [full, small] = await Promise.all([startServer(), startServer({ env: { MAX_IMAGE_PIXELS: String(960 * 640) } })]);
});
afterAll(async () => {
  await Promise.all([full.stop(), small.stop()]);
});

describe('decoding large images at reduced size', () => {
  it('reports bbox and keypoints of a 1920×1280 photo decoded at 960×640 in the original pixels', async () => {
    const a = await postImage(full.url, '/face-detector-face-fitter/process/image', demoPhoto(3));
    const b = await postImage(small.url, '/face-detector-face-fitter/process/image', demoPhoto(3));
    expect(b.status).toBe(200);
    expect(b.body.objects).toHaveLength(a.body.objects!.length);
    a.body.objects!.forEach((o, i) => {
      const p = b.body.objects![i];
      (o.bbox as number[]).forEach((v, k) => expect(Math.abs(v - (p.bbox as number[])[k])).toBeLessThan(0.02));
      const ka = (o.fitter as { keypoints: number[] }).keypoints, kb = (p.fitter as { keypoints: number[] }).keypoints;
      // Landmarks of a face at half resolution: within a few original pixels of the full-resolution fit.
      const err = ka.reduce((s, v, k) => s + Math.abs(v - kb[k]), 0) / ka.length;
      expect(err).toBeLessThan(6);
    });
  });
});
