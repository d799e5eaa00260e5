import { AgeGenderModel } from '../blocks/age-gender.js';
import { createFaceEstimatorModule } from './face-estimator.js';
import type { ModuleFactory } from './runtime.js';

/** `gender` (MALE/FEMALE) per face from the shared age/gender block (one faceres run serves both services). */
export const create: ModuleFactory = async (config) => {
  const model = await AgeGenderModel.create();
  return createFaceEstimatorModule(config, {
    async estimate(img, faces) {
      return (await model.run(img, faces)).map(({ gender }) => ({ gender }));
    },
  });
};
