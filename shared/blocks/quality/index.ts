import { EmotionModel } from '../emotion.js';
import { MaskClassifier } from '../mask-classifier.js';
import { QualityAssessor } from './assessor.js';
import type { MaskSignal } from './mask.js';
import type { EmotionSignal } from './neutral.js';
import { QualityParams } from './params.js';

export { QualityAssessor, type QualityFace, type QualityMeasurements } from './assessor.js';
export { QualityParams, defaultQualityParams } from './params.js';
export type { Qaa } from './scores.js';

/** The quality parameters among a module's variables (other variables, e.g. the gate's, are ignored). */
export function qualityParamsFrom(variables: Record<string, unknown>): QualityParams {
  const keys = Object.keys(QualityParams.shape);
  return QualityParams.parse(Object.fromEntries(Object.entries(variables).filter(([k]) => keys.includes(k))));
}

/** p(mask) from the trained mask classifier (its probe over the aligned face's embedding and lower-face statistics). */
async function classifierMaskSignal(): Promise<MaskSignal> {
  const classifier = await MaskClassifier.create();
  return { source: 'mask classifier (models/mask/mask-probe.json)', pMask: async (_img, aligned) => (await classifier.classifyAligned(aligned)).pMask };
}

/** Where p(mask) comes from; `heuristicMaskSignal` (./mask.js) is the model-free alternative. */
const maskSignal = classifierMaskSignal;
/**
 * p(neutral) from the emotion block's light model (mini-Xception, ≈ 1 ms; fr_expression is a few points
 * more accurate but takes ≈ 30 ms, the whole quality budget).
 */
async function modelEmotionSignal(): Promise<EmotionSignal> {
  const model = await EmotionModel.create('emotion');
  return {
    source: 'emotion block, mini-Xception (models/emotion.onnx)',
    async pNeutral(img, face) {
      const [scores] = await model.run(img, [face.box]);
      return scores.find((e) => e.emotion === 'NEUTRAL')?.confidence ?? 0;
    },
  };
}

/** Where p(neutral) comes from; `geometryEmotionSignal` (./neutral.js) is the model-free alternative. */
const emotionSignal = modelEmotionSignal;

export async function createQualityAssessor(params: QualityParams): Promise<QualityAssessor> {
  const [mask, emotion] = await Promise.all([maskSignal(), emotionSignal()]);
  return QualityAssessor.create(params, { mask, emotion });
}
