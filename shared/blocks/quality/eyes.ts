import type { RgbImage } from '../../image/rgb-image.js';
import { patchToTensor } from '../../image/tensor.js';
import { cropResize } from '../../image/warp.js';
import { loadModel, ort, type Model } from '../../models/session.js';
import type { Landmarks68 } from '../landmarks.js';

const SIZE = 24;

/** iBUG indices per eye: the two corners (outer, inner) and the four lid points. Image-left eye first. */
const EYES = [
  { corners: [36, 39], lids: [37, 38, 40, 41] },
  { corners: [45, 42], lids: [43, 44, 46, 47] },
] as const;

/**
 * Eye openness with fr_eye (small CNN, 24×24 grey /255), the vendor's crop: centre = mean of the four
 * lid points, side = corner-to-corner width × 1.6, square, axis-aligned. Softmax output: p[0] = closed,
 * p[1] = open (the vendor demo reads p[0] > p[1] as closed).
 */
export class EyeModel {
  private constructor(private readonly session: Model) {}

  static async create(): Promise<EyeModel> {
    return new EyeModel(await loadModel('fr_eye', { input: [1, 1, SIZE, SIZE] }));
  }

  /** p(open) for the image-left and image-right eye. */
  async openness(img: RgbImage, pts: Landmarks68): Promise<[number, number]> {
    const out: number[] = [];
    for (const eye of EYES) {
      const cx = eye.lids.reduce((s, i) => s + pts[i][0], 0) / 4;
      const cy = eye.lids.reduce((s, i) => s + pts[i][1], 0) / 4;
      const side = Math.max(2, Math.abs(pts[eye.corners[0]][0] - pts[eye.corners[1]][0]) * 1.6);
      const patch = cropResize(img, cx - side / 2, cy - side / 2, side, side, SIZE, SIZE);
      const input = patchToTensor(patch, SIZE, SIZE, { order: 'grey', mean: [0], std: [255], layout: 'nchw' });
      const logits = (await this.session.run({ input: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) })).output.data as Float32Array;
      // softmax of two logits = logistic of their difference
      out.push(1 / (1 + Math.exp(logits[0] - logits[1])));
    }
    return [out[0], out[1]];
  }
}
