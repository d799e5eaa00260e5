import { z } from 'zod';
import type { Role } from '../config/config-object.js';
import { QualityParams } from '../blocks/quality/params.js';

/**
 * What every module is, without loading any model: its service, the config objects it takes (with the
 * default file for each role) and the additional variables it accepts. Config validation, the Knative
 * generator and the HTTP layer read this; the pipelines themselves live beside it in shared/modules/.
 */
export interface ModuleInfo {
  service: ServiceName;
  /** Roles this module needs, with the config object used when the values file names none. */
  configs: Partial<Record<Role, string>>;
  variables: z.ZodObject;
  /** `$image` required on process/sample (the matcher works from templates alone). */
  imageRequired: boolean;
  summary: string;
}

export const ServiceNames = [
  'face-detector-face-fitter',
  'body-detector',
  'age-estimator',
  'gender-estimator',
  'emotion-estimator',
  'mask-estimator',
  'face-detector-liveness-estimator',
  'verify-matcher',
  'face-detector-template-extractor',
  'quality-assessment-estimator',
] as const;
export type ServiceName = (typeof ServiceNames)[number];

const CAPTURER = 'common_capturer_uld_fda.xml';
const RECOGNIZER = 'method12v50_recognizer.xml';
const LIVENESS = 'liveness_2d_estimator_v3.xml';
const none = z.strictObject({});

const estimator = (service: ServiceName, summary: string, variables: z.ZodObject = none): ModuleInfo => ({
  service,
  // Ours: estimators detect faces first on process/image, with this capturer.
  configs: { capturer: CAPTURER },
  variables,
  imageRequired: true,
  summary,
});

/** Additional variables of the liveness modules (the quality gate's are the original's). */
const qualityGate = z.strictObject({
  quality_threshold: z.number().min(0).max(100).default(30),
  reject_many_faces: z.boolean().default(true),
  ...QualityParams.shape,
});

export const Modules = {
  'face-detector-face-fitter': {
    service: 'face-detector-face-fitter',
    configs: { capturer: CAPTURER },
    variables: none,
    imageRequired: true,
    summary: 'Faces: bbox, 21 fda keypoints, eye centres, head angles',
  },
  'face-detector-template-extractor': {
    service: 'face-detector-template-extractor',
    configs: { capturer: CAPTURER, recognizer: RECOGNIZER },
    variables: none,
    imageRequired: true,
    summary: 'Faces as the detector returns them, plus $template and template_size',
  },
  'verify-matcher': {
    service: 'verify-matcher',
    configs: { capturer: CAPTURER, recognizer: RECOGNIZER },
    variables: none,
    imageRequired: false,
    summary: 'Compares the first two face templates: distance, fa_r, fr_r, score',
  },
  'body-detector': {
    service: 'body-detector',
    configs: {},
    variables: z.strictObject({
      score_threshold: z.number().min(0).max(1).default(0.3),
      nms_iou_threshold: z.number().min(0).max(1).default(0.5),
      model: z.enum(['centernet', 'nanodet']).default('centernet'),
    }),
    imageRequired: true,
    summary: 'People: bbox and confidence',
  },
  'age-estimator': estimator('age-estimator', 'age (integer years) per face'),
  'gender-estimator': estimator('gender-estimator', 'gender (MALE/FEMALE) per face'),
  'emotion-estimator': estimator(
    'emotion-estimator',
    'emotions per face: all seven with confidences summing to 1',
    z.strictObject({ model: z.enum(['fr_expression', 'emotion']).default('fr_expression') }),
  ),
  'mask-estimator': estimator('mask-estimator', 'has_medical_mask {value, confidence} per face'),
  'quality-assessment-estimator': estimator('quality-assessment-estimator', 'quality.qaa per face: 29 integer scores and flags', z.strictObject(QualityParams.shape)),
  'face-detector-liveness-estimator': {
    service: 'face-detector-liveness-estimator',
    configs: { capturer: CAPTURER, liveness: LIVENESS },
    variables: none,
    imageRequired: true,
    summary: 'liveness {value: REAL|FAKE|NOT_ENOUGH_DATA, confidence} per face',
  },
  'liveness-anti-spoofing': {
    service: 'face-detector-liveness-estimator',
    configs: { capturer: CAPTURER, liveness: LIVENESS },
    variables: none,
    imageRequired: true,
    summary: 'liveness per face: multi-scale, flip-augmented ensemble (slower, more accurate)',
  },
  'quality-liveness-anti-spoofing': {
    service: 'face-detector-liveness-estimator',
    configs: { capturer: CAPTURER, liveness: LIVENESS },
    variables: qualityGate,
    imageRequired: true,
    summary: 'quality gate (quality_threshold, reject_many_faces), then liveness-anti-spoofing',
  },
} satisfies Record<string, ModuleInfo>;

export type ModuleName = keyof typeof Modules;
export const ModuleNames = Object.keys(Modules) as ModuleName[];

export function modulesOfService(service: ServiceName): ModuleName[] {
  return ModuleNames.filter((m) => Modules[m].service === service);
}

export const isModuleName = (name: string): name is ModuleName => Object.hasOwn(Modules, name);
export const isServiceName = (name: string): name is ServiceName => (ServiceNames as readonly string[]).includes(name);
