import { FaceCapturer, type CapturedFace } from '../blocks/face-capturer.js';
import { fivePoints, type Landmarks68 } from '../blocks/landmarks.js';
import { FaceLandmarkNames, type ImageObject } from '../contract/objects.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import { fromNormalised, type Box } from '../geometry/box.js';
import type { Point } from '../geometry/similarity.js';
import type { RgbImage } from '../image/rgb-image.js';
import { faceObject, isFace, nextId } from './objects.js';
import type { ModuleRuntime, ProcessInput } from './runtime.js';

/** One face an estimator judges, however it reached the module. */
export interface FaceRegion {
  box: Box;
  score: number;
  /** The 5 alignment points (eye centres, nose tip, mouth corners), image-left first. */
  five: Point[];
  /** The 68 iBUG points where the module fitted them (faces from the client carry only the 21 fda points). */
  landmarks: Landmarks68 | null;
  /** Head angles where known (detected faces, or the client's `angles`). */
  angles: { yaw: number; pitch: number; roll: number } | null;
  /** True when the whole image stands for the face (no face objects given: the original's flow). */
  wholeImage: boolean;
}

export interface FaceEstimator {
  /** Fields to add to each face object, one entry per region, in order. */
  estimate(img: RgbImage, faces: FaceRegion[], context: { capturer: FaceCapturer }): Promise<Partial<ImageObject>[]>;
}

const fdaIndex = (name: (typeof FaceLandmarkNames)[number]) => FaceLandmarkNames.indexOf(name);

/** The 5 alignment points from a client's fda keypoints (pixels). */
function fiveFromFitter(keypoints: number[]): Point[] {
  return (['left_eye', 'right_eye', 'nose', 'mouth_left', 'mouth_right'] as const).map((n) => [keypoints[3 * fdaIndex(n)], keypoints[3 * fdaIndex(n) + 1]] as Point);
}

const regionOf = (face: CapturedFace, wholeImage: boolean): FaceRegion => ({
  box: face.box,
  score: face.score,
  five: fivePoints(face.landmarks),
  landmarks: face.landmarks,
  angles: face.angles,
  wholeImage,
});

/**
 * The shared flow of the face estimators (age, gender, emotion, mask, quality, liveness):
 * - `process/image` (ours): faces are detected first with the module's capturer;
 * - `process/sample` with face objects: each is judged where its bbox says (its fda points are used for
 *   alignment when present, else landmarks are fitted);
 * - `process/sample` without face objects: the whole image is one face crop, as the original does.
 * Non-face objects pass through untouched.
 */
export async function createFaceEstimatorModule(config: ResolvedServiceConfig, estimator: FaceEstimator): Promise<ModuleRuntime> {
  const capturer = await FaceCapturer.create(config.capturer!);
  return {
    config,
    async process({ image, objects, route }: ProcessInput) {
      const img = image!;
      if (route === 'image' || objects.length === 0 || !objects.some(isFace)) {
        if (route === 'sample' && objects.length === 0) {
          const whole: Box = { x1: 0, y1: 0, x2: img.width, y2: img.height };
          // The whole-image face is not reported with angles: the cheap geometric ones suffice.
          const face = await capturer.fit(img, whole, 1, false);
          const [fields] = await estimator.estimate(img, [regionOf(face, true)], { capturer });
          return { objects: [{ id: 0, class: 'face', bbox: [0, 0, 1, 1], ...fields }] };
        }
        if (route === 'sample') return { objects }; // only non-face objects: nothing to judge
        const faces = await capturer.capture(img);
        const fields = await estimator.estimate(img, faces.map((f) => regionOf(f, false)), { capturer });
        let id = nextId(objects);
        return { objects: [...objects, ...faces.map((f, i) => ({ ...faceObject(f, id++, img.width, img.height, img.scale), ...fields[i] }))] };
      }
      const regions: FaceRegion[] = [];
      const targets: number[] = [];
      for (const [i, o] of objects.entries()) {
        if (!isFace(o)) continue;
        const box = o.bbox ? fromNormalised(o.bbox, img.width, img.height) : { x1: 0, y1: 0, x2: img.width, y2: img.height };
        const keypoints = o.fitter?.keypoints;
        if (keypoints) {
          regions.push({ box, score: o.confidence ?? 1, five: fiveFromFitter(keypoints).map(([x, y]) => [x / (img.scale ?? 1), y / (img.scale ?? 1)] as Point), landmarks: null, angles: o.angles ?? null, wholeImage: !o.bbox });
        } else {
          const face = await capturer.fit(img, box, o.confidence ?? 1, !o.angles); // the client's angles spare the pose model
          regions.push({ ...regionOf(face, !o.bbox), angles: o.angles ?? face.angles });
        }
        targets.push(i);
      }
      const fields = await estimator.estimate(img, regions, { capturer });
      const out = [...objects];
      targets.forEach((objectIndex, k) => (out[objectIndex] = { ...out[objectIndex], ...fields[k] }));
      return { objects: out };
    },
  };
}
