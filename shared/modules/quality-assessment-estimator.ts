import { createQualityAssessor, qualityParamsFrom } from '../blocks/quality/index.js';
import { createFaceEstimatorModule } from './face-estimator.js';
import type { ModuleFactory } from './runtime.js';

/** `quality.qaa` per face (29 fields); faces arrive by the shared estimator flow (detected, given, or the whole image). */
export const create: ModuleFactory = async (config) => {
  const assessor = await createQualityAssessor(qualityParamsFrom(config.variables));
  return createFaceEstimatorModule(config, {
    async estimate(img, faces, { capturer }) {
      const out = [];
      for (const face of faces) out.push({ quality: { qaa: await assessor.assess(img, face, capturer) } });
      return out;
    },
  });
};
