import { clipBox, type Box } from '../geometry/box.js';
import { cropResize } from '../image/warp.js';
import type { RgbImage } from '../image/rgb-image.js';
import { IMAGENET, patchToTensor } from '../image/tensor.js';
import { loadModel, ort, type Model } from '../models/session.js';
import { faceSquare } from './landmarks.js';

export interface HeadAngles {
  yaw: number;
  pitch: number;
  roll: number;
}

const SIZE = 224;

function binnedAngle(logits: Float32Array): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0, expect = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i] - max);
    sum += e;
    expect += e * i;
  }
  return (expect / sum) * 3 - 99; // 66 bins of 3° from −99°
}

/**
 * Hopenet-type head pose (fr_pose). Fed RGB: the vendor's BGR feed measured worse for pitch.
 * Signs: yaw > 0 when the nose points to image-left, pitch > 0 looking up, roll > 0 clockwise.
 */
export class HeadPoseModel {
  private constructor(private readonly session: Model) {}

  static async create(): Promise<HeadPoseModel> {
    // Two intra-op threads: 4.9 → 4.0–4.6 ms a face here, with no measurable loss at concurrency 4.
    return new HeadPoseModel(await loadModel('fr_pose', { input: [1, 3, SIZE, SIZE] }, 2));
  }

  async run(img: RgbImage, box: Box): Promise<HeadAngles> {
    const sq = faceSquare(box, img.width, img.height);
    const m = (sq.x2 - sq.x1) / 4;
    const c = clipBox({ x1: sq.x1 - m, y1: sq.y1 - m, x2: sq.x2 + m, y2: sq.y2 + m }, img.width, img.height);
    const patch = cropResize(img, c.x1, c.y1, c.x2 - c.x1, c.y2 - c.y1, SIZE, SIZE);
    const input = patchToTensor(patch, SIZE, SIZE, { order: 'rgb', ...IMAGENET, layout: 'nchw' });
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
    const [yaw, pitch, roll] = this.session.outputNames.map((n) => binnedAngle(out[n].data as Float32Array));
    return { yaw, pitch, roll };
  }
}
