import { MaskClassifier } from '../blocks/mask-classifier.js';
import { createFaceEstimatorModule } from './face-estimator.js';
import type { ModuleFactory } from './runtime.js';

const round = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * `has_medical_mask` per face: the synthetic-mask probe (models/mask/mask-probe.json) over the aligned
 * face's `fr_feature` embedding and lower-face colour/texture statistics. `confidence` is the probability
 * of the reported value, re-centred on the probe's threshold (so it is never below 0.5).
 */
export const create: ModuleFactory = async (config) => {
  const classifier = await MaskClassifier.create();
  return createFaceEstimatorModule(config, {
    async estimate(img, faces) {
      const out = [];
      for (const face of faces) {
        const r = await classifier.classify(img, face.five);
        out.push({ has_medical_mask: { value: r.value, confidence: round(r.confidence) } });
      }
      return out;
    },
  });
};
