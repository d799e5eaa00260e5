import { z } from 'zod';
import { EmotionModel, EmotionModelNames } from '../blocks/emotion.js';
import { createFaceEstimatorModule } from './face-estimator.js';
import type { ModuleFactory } from './runtime.js';

const Variables = z.object({ model: z.enum(EmotionModelNames).default('fr_expression') });

/**
 * `emotions` per face: all seven contract labels with confidences summing to 1. The `model` variable picks
 * the DenseNet-121 `fr_expression` (default, more accurate) or the mini-Xception `emotion` (≈40× faster).
 */
export const create: ModuleFactory = async (config) => {
  const { model: name } = Variables.parse(config.variables);
  const model = await EmotionModel.create(name);
  return createFaceEstimatorModule(config, {
    async estimate(img, faces) {
      return (await model.run(img, faces.map((f) => f.box))).map((emotions) => ({ emotions }));
    },
  });
};
