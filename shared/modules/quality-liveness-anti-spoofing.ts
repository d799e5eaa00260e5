import { z } from 'zod';
import { FaceCapturer } from '../blocks/face-capturer.js';
import { fivePoints } from '../blocks/landmarks.js';
import { LivenessEstimator } from '../blocks/liveness.js';
import { createQualityAssessor, qualityParamsFrom } from '../blocks/quality/index.js';
import { ApiError, Messages } from '../contract/errors.js';
import { createLivenessFlow } from './face-detector-liveness-estimator.js';
import type { ModuleFactory } from './runtime.js';

const GateVariables = z.object({ quality_threshold: z.number().default(30), reject_many_faces: z.boolean().default(true) });

/**
 * Quality gate, then liveness-anti-spoofing: more than one face with `reject_many_faces` is refused; a
 * face whose quality totalScore is below `quality_threshold` is refused with the original's message
 * (the lowest score is reported when several faces are allowed); otherwise every face is judged.
 */
export const create: ModuleFactory = async (config) => {
  const { quality_threshold: threshold, reject_many_faces: rejectMany } = GateVariables.parse(config.variables);
  const [capturer, liveness, assessor] = await Promise.all([
    FaceCapturer.create(config.capturer!),
    LivenessEstimator.create(config.liveness!),
    createQualityAssessor(qualityParamsFrom(config.variables)),
  ]);
  return createLivenessFlow(
    config,
    capturer,
    (img, face) => liveness.antiSpoofing(img, face),
    async (img, faces) => {
      if (rejectMany && faces.length > 1) throw new ApiError(400, Messages.manyFaces);
      let lowest = Infinity;
      for (const face of faces) {
        const qaa = await assessor.assess(img, { ...face, five: fivePoints(face.landmarks) }, capturer);
        lowest = Math.min(lowest, qaa.totalScore);
      }
      if (lowest < threshold) throw new ApiError(400, Messages.lowQuality(lowest, threshold));
    },
  );
};
