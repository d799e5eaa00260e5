import { boxHeight, boxWidth, type Box } from '../../geometry/box.js';
import { applyAffine, estimateSimilarity, invertAffine, type Point } from '../../geometry/similarity.js';
import { ARCFACE_112 } from '../face-aligner.js';

/** Pose and placement of the face: head rotation, eye distance, and the room around the face. */

export interface Angles {
  yaw: number;
  pitch: number;
  roll: number;
}

/** In-plane rotation from the eye line (image-left eye → image-right eye), degrees, clockwise positive as fr_pose's roll. */
export const eyeLineRoll = (leftEye: Point, rightEye: Point) => (Math.atan2(rightEye[1] - leftEye[1], rightEye[0] - leftEye[0]) * 180) / Math.PI;

/**
 * Largest of |yaw|, |pitch|, |roll|, degrees. Roll is read from the eye line rather than from the pose
 * model: fr_pose was trained on upright heads and its roll stops following an in-plane turn beyond
 * ≈ 30° (measured: a 35° turn of the picture moved it by anything from −18° to +42°), while the eye line
 * follows it exactly.
 */
export const maxRotation = (a: Angles, roll: number) => Math.max(Math.abs(a.yaw), Math.abs(a.pitch), Math.abs(roll));

/** Distance between the eye centres, pixels of the original image. */
export const eyeDistance = (leftEye: Point, rightEye: Point) => Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]);

/** The face's extent: its box, grown to take in any of the 68 landmarks that fall outside it (a cut face's jaw does). */
export function faceExtent(box: Box, landmarks: readonly Point[] | null): Box {
  const e = { ...box };
  for (const [x, y] of landmarks ?? []) {
    e.x1 = Math.min(e.x1, x); e.y1 = Math.min(e.y1, y);
    e.x2 = Math.max(e.x2, x); e.y2 = Math.max(e.y2, y);
  }
  return e;
}

/**
 * Share of the aligned face (the inner-face ellipse of the 112×112 ArcFace crop, centre (56, 68), semi-axes
 * 34 × 40) whose source pixels lie inside the image: below 1 the recognizer sees padding where face
 * should be. Sampled on a 2-px grid.
 */
export function alignedInsideShare(five: readonly Point[], width: number, height: number): number {
  const toImage = invertAffine(estimateSimilarity(five, ARCFACE_112));
  let n = 0, inside = 0;
  for (let v = 1; v < 112; v += 2) {
    for (let u = 1; u < 112; u += 2) {
      const dx = (u - 56) / 34, dy = (v - 68) / 40;
      if (dx * dx + dy * dy > 1) continue;
      n++;
      const [x, y] = applyAffine(toImage, [u, v]);
      if (x >= 0 && y >= 0 && x < width && y < height) inside++;
    }
  }
  return n ? inside / n : 0;
}

export interface Margins {
  /** How far (px) the padded face region reaches past the image border, on its worst side; 0 when inside. */
  outer: number;
  /** Room (px) left between the padded face region and the nearest image border; 0 when it touches or crosses it. */
  inner: number;
  /** Share of the face that lies inside the image, 0..1 (see `margins`). */
  visible: number;
}

/**
 * Width ÷ height of the detector's box on whole faces: median 0.71 (10th–90th percentile 0.65–0.75) on
 * the face_verification photos. A face cut by the frame is detected as its visible part: the box then
 * touches the border and is narrower (cut at the side) or squatter (cut at the top or bottom) than this.
 */
export const FACE_BOX_ASPECT = 0.71;

/**
 * Margins of the face extent padded by `ratio` of its width (left/right) and height (top/bottom).
 * `visible` is the lower of the share of the extent inside the image and, when the detector's face box
 * (null: none, e.g. the whole image stands for the face) touches a border, its aspect against a whole
 * face's (`FACE_BOX_ASPECT`): the part the frame cut away.
 */
export function margins(extent: Box, width: number, height: number, ratio: number, box: Box | null): Margins {
  const w = boxWidth(extent), h = boxHeight(extent);
  const p = { x1: extent.x1 - ratio * w, y1: extent.y1 - ratio * h, x2: extent.x2 + ratio * w, y2: extent.y2 + ratio * h };
  const room = [p.x1, p.y1, width - p.x2, height - p.y2];
  const iw = Math.max(0, Math.min(width, extent.x2) - Math.max(0, extent.x1));
  const ih = Math.max(0, Math.min(height, extent.y2) - Math.max(0, extent.y1));
  let visible = w > 0 && h > 0 ? (iw * ih) / (w * h) : 0;
  if (box) {
    const aspect = boxWidth(box) / Math.max(1, boxHeight(box));
    // "Touching": within 5 % of the face height (at least 2 px) of the border; the detector stops a few px short.
    const t = Math.max(2, 0.05 * boxHeight(box));
    if (box.x1 <= t || box.x2 >= width - t) visible = Math.min(visible, aspect / FACE_BOX_ASPECT);
    if (box.y1 <= t || box.y2 >= height - t) visible = Math.min(visible, FACE_BOX_ASPECT / aspect);
  }
  return {
    outer: Math.max(0, ...room.map((r) => -r)),
    inner: Math.max(0, Math.min(...room)),
    visible: Math.min(1, visible),
  };
}
