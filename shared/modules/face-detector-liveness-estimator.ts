import { FaceCapturer, type CapturedFace } from '../blocks/face-capturer.js';
import { LivenessEstimator, type LivenessResult } from '../blocks/liveness.js';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { ImageObject } from '../contract/objects.js';
import type { RgbImage } from '../image/rgb-image.js';
import { faceObject, nextId } from './objects.js';
import type { ModuleFactory, ModuleRuntime } from './runtime.js';

export type Judge = (img: RgbImage, face: CapturedFace) => Promise<LivenessResult>;

/** The contract's `liveness` field: value and the confidence in it, rounded as the other fields are. */
export const livenessField = (r: LivenessResult) => ({ liveness: { value: r.value, confidence: Math.round(r.confidence * 1e4) / 1e4 } });

/**
 * The liveness service's flow, shared by its three modules: it is a detector service, so both routes
 * capture faces (the client's objects are kept, as the fitter keeps them) and each captured face gets
 * the fitter's fields plus `liveness`. `before` may inspect the captured faces and refuse the request
 * (the quality gate does).
 */
export function createLivenessFlow(
  config: ResolvedServiceConfig,
  capturer: FaceCapturer,
  judge: Judge,
  before?: (img: RgbImage, faces: CapturedFace[]) => Promise<void>,
): ModuleRuntime {
  return {
    config,
    async process({ image, objects }) {
      const img = image!;
      const faces = await capturer.capture(img);
      if (before) await before(img, faces);
      let id = nextId(objects);
      const out: ImageObject[] = [...objects];
      for (const face of faces) out.push({ ...faceObject(face, id++, img.width, img.height, img.scale), ...livenessField(await judge(img, face)) });
      return { objects: out };
    },
  };
}

/** Standard liveness: one ×2.7 fr_liveness crop per captured face. */
export const create: ModuleFactory = async (config) => {
  const [capturer, liveness] = await Promise.all([FaceCapturer.create(config.capturer!), LivenessEstimator.create(config.liveness!)]);
  return createLivenessFlow(config, capturer, (img, face) => liveness.standard(img, face));
};
