import type { ImageObject } from '../contract/objects.js';
import { eyeCentres, fdaKeypoints } from '../blocks/landmarks.js';
import type { CapturedFace } from '../blocks/face-capturer.js';
import { toNormalised } from '../geometry/box.js';

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * The contract's rules for request objects: `{}` is dropped, an object without `id` gets its index,
 * and objects are sorted by id.
 */
export function normaliseObjects(objects: readonly ImageObject[] | undefined): ImageObject[] {
  const out: ImageObject[] = [];
  (objects ?? []).forEach((o, i) => {
    if (Object.keys(o).length === 0) return;
    out.push(o.id === undefined ? { ...o, id: i } : { ...o });
  });
  return out.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

/** Ids for new objects continue after the highest id the client used. */
export function nextId(objects: readonly ImageObject[]): number {
  return objects.reduce((m, o) => Math.max(m, (o.id ?? -1) + 1), 0);
}

export const isFace = (o: ImageObject) => o.class === 'face';

/**
 * A captured face → the fitter's contract object: bbox normalised, keypoints in pixels of the original
 * image (`scale` = original pixels per decoded pixel, RgbImage.scale).
 */
export function faceObject(face: CapturedFace, id: number, width: number, height: number, scale = 1): ImageObject {
  const [le, re] = eyeCentres(face.landmarks).map(([x, y]) => [x * scale, y * scale]);
  return {
    id,
    class: 'face',
    confidence: round(face.score, 4),
    bbox: toNormalised(face.box, width, height).map((v) => round(v, 5)) as [number, number, number, number],
    fitter: {
      fitter_type: 'fda',
      keypoints: fdaKeypoints(face.landmarks).map((v) => round(v * scale, 2)),
      left_eye: [round(le[0], 2), round(le[1], 2)],
      right_eye: [round(re[0], 2), round(re[1], 2)],
    },
    angles: { yaw: round(face.angles.yaw, 2), pitch: round(face.angles.pitch, 2), roll: round(face.angles.roll, 2) },
  };
}
