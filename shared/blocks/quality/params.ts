import { z } from 'zod';

/**
 * Thresholds behind the quality booleans. The seven the original documents keep its defaults (blur 20,
 * illumination 50, rotation 10°, eye distance 60 px, noise 20, neutral emotion 20, mask 20); the rest
 * are ours. Every `*_threshold` on a score compares with that 0..100 score: `is… = score ≥ threshold`,
 * except rotation (`maxRotationDeviation ≤ threshold`) and watermark (`hasWatermark = score ≥ threshold`).
 */
export const QualityParams = z.strictObject({
  /** isSharp: sharpnessScore ≥ this. */
  blur_threshold: z.number().min(0).max(100).default(20),
  /** isEvenlyIlluminated: illuminationScore ≥ this. */
  illumination_threshold: z.number().min(0).max(100).default(50),
  /** isRotationAcceptable: maxRotationDeviation (degrees) ≤ this. */
  rotation_threshold: z.number().min(0).max(180).default(10),
  /** isEyesDistanceAcceptable: eyesDistance (pixels) ≥ this. */
  eyes_distance_threshold: z.number().min(0).default(60),
  /** isNotNoisy: noiseScore ≥ this. */
  noise_threshold: z.number().min(0).max(100).default(20),
  /** isNeutralEmotion: neutralEmotionScore ≥ this. */
  neutral_emotion_threshold: z.number().min(0).max(100).default(20),
  /** notMasked: notMaskedScore ≥ this. */
  mask_threshold: z.number().min(0).max(100).default(20),
  /** is…EyeOpened: …EyeOpennessScore ≥ this (50 = the eye model's own p(open) > p(closed)). */
  eye_openness_threshold: z.number().min(0).max(100).default(50),
  /** noFlare: share of clipped (≥ 250) inner-face pixels below this. */
  flare_share: z.number().min(0).max(1).default(0.02),
  /** isDynamicRangeAcceptable: dynamicRangeScore ≥ this. */
  dynamic_range_threshold: z.number().min(0).max(100).default(50),
  /** isBackgroundUniform: backgroundUniformityScore ≥ this. */
  background_uniformity_threshold: z.number().min(0).max(100).default(50),
  /** hasWatermark: watermarkScore ≥ this. */
  watermark_threshold: z.number().min(0).max(100).default(50),
  /** Padding around the face extent for the margins, as a share of its width (sides) and height (top, bottom). */
  margin_ratio: z.number().min(0).max(2).default(0.2),
  /** isMarginsAcceptable: marginOuterDeviation (pixels) ≤ this. */
  margin_tolerance: z.number().min(0).default(0),
});
export type QualityParams = z.infer<typeof QualityParams>;

export const defaultQualityParams = (): QualityParams => QualityParams.parse({});
