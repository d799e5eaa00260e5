import { boxHeight, shiftInside, squareAround, type Box } from '../geometry/box.js';
import type { Point } from '../geometry/similarity.js';
import { cropResize } from '../image/warp.js';
import type { RgbImage } from '../image/rgb-image.js';
import { patchToTensor } from '../image/tensor.js';
import { loadModel, ort, type Model } from '../models/session.js';

/** 68 points in iBUG 300-W order, pixels of the original image. */
export type Landmarks68 = Point[];

const SIZE = 64;

/** The square crop every face model after the detector starts from: side = box height, same centre, kept inside the image. */
export function faceSquare(box: Box, width: number, height: number): Box {
  return shiftInside(squareAround(box, boxHeight(box)), width, height);
}

export class LandmarkModel {
  private constructor(private readonly session: Model) {}

  static async create(): Promise<LandmarkModel> {
    return new LandmarkModel(await loadModel('fr_landmark', { input: [1, 1, SIZE, SIZE] }));
  }

  /** All faces of one image in one batch-1 run each (the exported graph has a fixed batch of 1). */
  async run(img: RgbImage, box: Box): Promise<Landmarks68> {
    const sq = faceSquare(box, img.width, img.height);
    const side = sq.x2 - sq.x1;
    const patch = cropResize(img, sq.x1, sq.y1, side, side, SIZE, SIZE);
    const input = patchToTensor(patch, SIZE, SIZE, { order: 'grey', mean: [0], std: [256], layout: 'nchw' });
    const out = (await this.session.run({ input: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) })).output.data as Float32Array;
    const points: Landmarks68 = [];
    for (let i = 0; i < 68; i++) points.push([sq.x1 + out[2 * i] * side, sq.y1 + out[2 * i + 1] * side]);
    return points;
  }
}

const mean = (pts: Landmarks68, idx: number[]): [number, number] => [
  idx.reduce((s, i) => s + pts[i][0], 0) / idx.length,
  idx.reduce((s, i) => s + pts[i][1], 0) / idx.length,
];

/** Eye centres (mean of the four lid points), as (image-left eye, image-right eye). */
export const eyeCentres = (pts: Landmarks68): [Point, Point] => [mean(pts, [37, 38, 40, 41]), mean(pts, [43, 44, 46, 47])];

/** The 5 points the ArcFace alignment uses: eye centres, nose tip, mouth corners (image-left first). */
export const fivePoints = (pts: Landmarks68): Point[] => {
  const [le, re] = eyeCentres(pts);
  return [le, re, pts[30], mean(pts, [48, 60]), mean(pts, [54, 64])];
};

/**
 * The contract's 21 `fda` points from the 68 iBUG points. "left"/"right" are as seen in the image
 * (viewer's left), so `left_eye` is the eye nearer x = 0 on an upright face. Each entry lists the iBUG
 * indices averaged for that point.
 */
export const FDA_FROM_IBUG: readonly (readonly number[])[] = [
  [17], [19], [21], // left_eye_brow_left, _up, _right
  [22], [24], [26], // right_eye_brow_left, _up, _right
  [36], [37, 38, 40, 41], [39], // left_eye_left, left_eye (centre), left_eye_right
  [42], [43, 44, 46, 47], [45], // right_eye_left, right_eye (centre), right_eye_right
  // *_ear_bottom: where the lobe meets the jaw. iBUG has no ear points; the jaw contour's 4th point from
  // the top (at the nostrils' height) is the nearest, and stays on the face when it turns.
  [3], // left_ear_bottom
  [31], [30], [35], // nose_left, nose (tip), nose_right
  [13], // right_ear_bottom
  [48], [51, 57], [54], // mouth_left, mouth (centre of the outer lips), mouth_right
  [8], // chin
];

export function fdaKeypoints(pts: Landmarks68): number[] {
  const out: number[] = [];
  for (const idx of FDA_FROM_IBUG) {
    const [x, y] = mean(pts, [...idx]);
    out.push(x, y, 0);
  }
  return out;
}
