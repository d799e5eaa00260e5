import { z } from 'zod';

/** `[x1, y1, x2, y2]` normalised to 0..1 by image width and height. */
export const Bbox = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .refine(([x1, y1, x2, y2]) => [x1, y1, x2, y2].every((v) => v >= 0 && v <= 1), {
    message: 'bbox coordinates must lie in 0..1 (normalised by image width and height)',
  })
  .refine(([x1, y1, x2, y2]) => x2 > x1 && y2 > y1, { message: 'bbox must satisfy x1 < x2 and y1 < y2' });
export type Bbox = z.infer<typeof Bbox>;

export const FaceLandmarkNames = [
  'left_eye_brow_left', 'left_eye_brow_up', 'left_eye_brow_right',
  'right_eye_brow_left', 'right_eye_brow_up', 'right_eye_brow_right',
  'left_eye_left', 'left_eye', 'left_eye_right',
  'right_eye_left', 'right_eye', 'right_eye_right',
  'left_ear_bottom', 'nose_left', 'nose', 'nose_right', 'right_ear_bottom',
  'mouth_left', 'mouth', 'mouth_right', 'chin',
] as const;

export const Fitter = z.looseObject({
  fitter_type: z.string(),
  keypoints: z.array(z.number()).length(FaceLandmarkNames.length * 3),
  left_eye: z.tuple([z.number(), z.number()]),
  right_eye: z.tuple([z.number(), z.number()]),
});
export type Fitter = z.infer<typeof Fitter>;

export const Angles = z.looseObject({ yaw: z.number(), pitch: z.number(), roll: z.number() });
export type Angles = z.infer<typeof Angles>;

export const Verification = z.object({
  distance: z.number(),
  fa_r: z.number(),
  fr_r: z.number(),
  score: z.number(),
});
export type Verification = z.infer<typeof Verification>;

/**
 * One request/response object. Loose: every field a client sent is echoed back; the service only adds or
 * replaces its own. Fields are optional on input because a client may send a bare `{"class": "face"}`.
 */
export const ImageObject = z.looseObject({
  id: z.number().int().min(0).optional(),
  class: z.string().optional(),
  confidence: z.number().optional(),
  bbox: Bbox.optional(),
  fitter: Fitter.optional(),
  angles: Angles.optional(),
  $template: z.string().optional(),
  template_size: z.number().int().optional(),
  age: z.union([z.number(), z.string()]).optional(),
  gender: z.enum(['MALE', 'FEMALE']).optional(),
});
export type ImageObject = z.infer<typeof ImageObject>;

export const EmotionLabels = ['ANGRY', 'DISGUSTED', 'SCARED', 'HAPPY', 'NEUTRAL', 'SAD', 'SURPRISED'] as const;
export const LivenessValues = ['REAL', 'FAKE', 'NOT_ENOUGH_DATA'] as const;

export const QualityFields = [
  'totalScore', 'isSharp', 'sharpnessScore', 'isEvenlyIlluminated', 'illuminationScore', 'noFlare',
  'isLeftEyeOpened', 'leftEyeOpennessScore', 'isRightEyeOpened', 'rightEyeOpennessScore',
  'isRotationAcceptable', 'maxRotationDeviation', 'notMasked', 'notMaskedScore', 'isNeutralEmotion',
  'neutralEmotionScore', 'isEyesDistanceAcceptable', 'eyesDistance', 'isMarginsAcceptable',
  'marginOuterDeviation', 'marginInnerDeviation', 'isNotNoisy', 'noiseScore', 'watermarkScore',
  'hasWatermark', 'dynamicRangeScore', 'isDynamicRangeAcceptable', 'backgroundUniformityScore',
  'isBackgroundUniform',
] as const;
