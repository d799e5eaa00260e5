import { FaceCapturer } from '../blocks/face-capturer.js';
import { LivenessEstimator } from '../blocks/liveness.js';
import { createLivenessFlow } from './face-detector-liveness-estimator.js';
import type { ModuleFactory } from './runtime.js';

/** Slower, stricter liveness: ×2.7 and ×4.0 crops with their mirrors, the lower score, and the print-screen veto. */
export const create: ModuleFactory = async (config) => {
  const [capturer, liveness] = await Promise.all([FaceCapturer.create(config.capturer!), LivenessEstimator.create(config.liveness!)]);
  return createLivenessFlow(config, capturer, (img, face) => liveness.antiSpoofing(img, face));
};
