import { clamp01, ramp, toScore } from './image-ops.js';
import type { QualityMeasurements } from './assessor.js';
import type { QualityParams } from './params.js';

/** The contract's `quality.qaa` object: 29 fields, scores as integers 0..100, flags as booleans. */
export interface Qaa {
  totalScore: number;
  isSharp: boolean;
  sharpnessScore: number;
  isEvenlyIlluminated: boolean;
  illuminationScore: number;
  noFlare: boolean;
  isLeftEyeOpened: boolean;
  leftEyeOpennessScore: number;
  isRightEyeOpened: boolean;
  rightEyeOpennessScore: number;
  isRotationAcceptable: boolean;
  maxRotationDeviation: number;
  notMasked: boolean;
  notMaskedScore: number;
  isNeutralEmotion: boolean;
  neutralEmotionScore: number;
  isEyesDistanceAcceptable: boolean;
  eyesDistance: number;
  isMarginsAcceptable: boolean;
  marginOuterDeviation: number;
  marginInnerDeviation: number;
  isNotNoisy: boolean;
  noiseScore: number;
  watermarkScore: number;
  hasWatermark: boolean;
  dynamicRangeScore: number;
  isDynamicRangeAcceptable: boolean;
  backgroundUniformityScore: number;
  isBackgroundUniform: boolean;
}

/**
 * The constants that map each raw measurement to its 0..100 score (docs/quality.md explains where each
 * comes from; the degradation eval in scripts/eval/tasks/quality.ts shows them at work).
 */
export const SCALES = {
  /**
   * sharpness = log(1 + v/v0) / log(1 + vSharp/v0), where v is the Laplacian variance rescaled to a
   * reference contrast: v = lapVar · (stdRef / max(std, stdMin))², so a darker or flatter-lit face is
   * not mistaken for a blurred one.
   */
  sharpness: { v0: 4, vSharp: 600, stdRef: 40, stdMin: 8 },
  /** exposure: 1 for a mean grey level in [lowGood, highGood], ramping to 0 at dark / bright. */
  exposure: { dark: 20, lowGood: 80, highGood: 180, bright: 240 },
  /** evenness: 1 − |left − right| / (left + right) ÷ maxImbalance. */
  evenness: { maxImbalance: 0.5 },
  /** dynamic range: ramp of (p99 − p1) grey levels. */
  dynamicRange: { low: 30, high: 150 },
  /** noise = 1 / (1 + (σ/σ0)²). */
  noise: { sigma0: 5 },
  /** background = exp(−texture/t0 − spread/s0), 0 when less than minVisible of the window is in the image. */
  background: { t0: 6, s0: 40, minVisible: 0.25 },
  /** watermark = 1 − exp(−(r/r0)²) for the noise-compensated stroke energy r; r0 puts 50 at the 95th percentile of clean faces. */
  watermark: { r0: 7.45 },
} as const;

export function sharpnessOf(laplacianVariance: number, std: number): number {
  const { v0, vSharp, stdRef, stdMin } = SCALES.sharpness;
  const v = laplacianVariance * (stdRef / Math.max(std, stdMin)) ** 2;
  return clamp01(Math.log1p(v / v0) / Math.log1p(vSharp / v0));
}

export function illuminationOf(mean: number, left: number, right: number): number {
  const e = SCALES.exposure;
  const exposure = mean < e.lowGood ? ramp(mean, e.dark, e.lowGood) : ramp(mean, e.bright, e.highGood);
  const imbalance = Math.abs(left - right) / Math.max(1, left + right);
  return exposure * clamp01(1 - imbalance / SCALES.evenness.maxImbalance);
}

export const dynamicRangeOf = (p1: number, p99: number) => ramp(p99 - p1, SCALES.dynamicRange.low, SCALES.dynamicRange.high);
export const noiseOf = (sigma: number) => 1 / (1 + (sigma / SCALES.noise.sigma0) ** 2);

export function backgroundOf(texture: number, spread: number, visible: number): number {
  const b = SCALES.background;
  return visible < b.minVisible ? 0 : Math.exp(-texture / b.t0 - spread / b.s0);
}

export const watermarkOf = (ratio: number) => 1 - Math.exp(-((ratio / SCALES.watermark.r0) ** 2));

/**
 * totalScore: usability for recognition, a product of gates g ∈ [0, 1], one per defect that costs the
 * recognizer accuracy. A gate is 1 across the harmless range and falls linearly to 0 (or to a floor)
 * where that defect alone makes a face unusable, so one fatal defect sinks the total while mild ones
 * cost a little each. The gates read the physical measurements, not the 0..100 scores, and their ends
 * were placed from the cosine between degraded and clean templates of the face_verification and NUAA
 * faces (docs/quality.md; `npm run eval -- quality` re-measures the relation).
 */
export const TOTAL_GATES = {
  /** sharpness (0..1, as sharpnessScore / 100): blur σ 8 px on a 150-px face reads ≈ 0.1 (cosine ≈ 0.15). */
  sharpness: { bad: 0.15, good: 0.65 },
  /** mean grey level of the inner face: under-exposure. */
  darkness: { bad: 8, good: 45 },
  /** share of clipped inner-face pixels: over-exposure washes features out. */
  clipping: { bad: 0.75, good: 0.35 },
  /** |left − right| / (left + right) of the inner face's halves: hard side light. */
  sideLight: { bad: 0.6, good: 0.3 },
  /** p99 − p1 grey levels of the inner face: contrast left to work with. */
  contrast: { bad: 8, good: 40 },
  /** noise σ (grey levels, at ≤ 160 px): the recognizer tolerates a lot (σ 20 still gives cosine ≈ 0.88). */
  noise: { bad: 45, good: 10 },
  /**
   * max(|yaw|, |pitch|), degrees. Roll is left out: the alignment undoes it (a 40° in-plane turn kept the
   * cosine at 0.98), though it counts in maxRotationDeviation.
   */
  rotation: { good: 15, bad: 60 },
  /** eye-centre distance, pixels: the aligned crop is 112 px with the eyes ≈ 35 px apart. */
  eyesDistance: { bad: 12, good: 40 },
  /**
   * the lower of: the share of the face extent inside the image, and the share of the aligned inner face
   * whose pixels exist (a face cut by the frame is often detected as its visible part only; the aligned
   * crop still reaches past the border).
   */
  visible: { bad: 0.55, good: 0.9 },
  /** 1 − p(mask): a masked face keeps `floor` (masks cut the cosine to ≈ 0.55). */
  notMasked: { floor: 0.2, bad: 0.1, good: 0.6 },
  /** closed eyes cost at most 1 − floor (cosine ≈ 0.9 with both eyes painted shut). */
  eyesOpen: { floor: 0.8 },
} as const;

export function totalGates(m: QualityMeasurements): Record<keyof typeof TOTAL_GATES, number> {
  const t = TOTAL_GATES;
  const p = m.photometric;
  return {
    sharpness: ramp(sharpnessOf(p.laplacianVariance, p.std), t.sharpness.bad, t.sharpness.good),
    darkness: ramp(p.mean, t.darkness.bad, t.darkness.good),
    clipping: ramp(p.clipped, t.clipping.bad, t.clipping.good),
    sideLight: ramp(Math.abs(p.leftMean - p.rightMean) / Math.max(1, p.leftMean + p.rightMean), t.sideLight.bad, t.sideLight.good),
    contrast: ramp(p.p99 - p.p1, t.contrast.bad, t.contrast.good),
    noise: ramp(m.noiseSigma, t.noise.bad, t.noise.good),
    rotation: ramp(Math.max(Math.abs(m.angles.yaw), Math.abs(m.angles.pitch)), t.rotation.bad, t.rotation.good),
    eyesDistance: ramp(m.eyesDistance, t.eyesDistance.bad, t.eyesDistance.good),
    visible: ramp(Math.min(m.margins.visible, m.alignedInside), t.visible.bad, t.visible.good),
    notMasked: t.notMasked.floor + (1 - t.notMasked.floor) * ramp(1 - m.pMask, t.notMasked.bad, t.notMasked.good),
    eyesOpen: t.eyesOpen.floor + (1 - t.eyesOpen.floor) * Math.max(m.eyesOpen[0], m.eyesOpen[1]),
  };
}

export const totalOf = (m: QualityMeasurements) => Object.values(totalGates(m)).reduce((a, g) => a * g, 1);

export function scoreQuality(m: QualityMeasurements, params: QualityParams): Qaa {
  const p = m.photometric;
  const sharpnessScore = toScore(sharpnessOf(p.laplacianVariance, p.std));
  const illuminationScore = toScore(illuminationOf(p.mean, p.leftMean, p.rightMean));
  const leftEyeOpennessScore = toScore(m.eyesOpen[0]);
  const rightEyeOpennessScore = toScore(m.eyesOpen[1]);
  const maxRotationDeviation = Math.round(m.maxRotation);
  const notMaskedScore = toScore(1 - m.pMask);
  const neutralEmotionScore = toScore(m.pNeutral);
  const eyesDistance = Math.round(m.eyesDistance);
  const marginOuterDeviation = Math.round(m.margins.outer);
  const marginInnerDeviation = Math.round(m.margins.inner);
  const noiseScore = toScore(noiseOf(m.noiseSigma));
  const watermarkScore = toScore(watermarkOf(m.watermark.ratio));
  const dynamicRangeScore = toScore(dynamicRangeOf(p.p1, p.p99));
  const backgroundUniformityScore = toScore(backgroundOf(m.background.texture, m.background.spread, m.background.visible));
  return {
    totalScore: toScore(totalOf(m)),
    isSharp: sharpnessScore >= params.blur_threshold,
    sharpnessScore,
    isEvenlyIlluminated: illuminationScore >= params.illumination_threshold,
    illuminationScore,
    noFlare: p.clipped < params.flare_share,
    isLeftEyeOpened: leftEyeOpennessScore >= params.eye_openness_threshold,
    leftEyeOpennessScore,
    isRightEyeOpened: rightEyeOpennessScore >= params.eye_openness_threshold,
    rightEyeOpennessScore,
    isRotationAcceptable: maxRotationDeviation <= params.rotation_threshold,
    maxRotationDeviation,
    notMasked: notMaskedScore >= params.mask_threshold,
    notMaskedScore,
    isNeutralEmotion: neutralEmotionScore >= params.neutral_emotion_threshold,
    neutralEmotionScore,
    isEyesDistanceAcceptable: eyesDistance >= params.eyes_distance_threshold,
    eyesDistance,
    isMarginsAcceptable: marginOuterDeviation <= params.margin_tolerance,
    marginOuterDeviation,
    marginInnerDeviation,
    isNotNoisy: noiseScore >= params.noise_threshold,
    noiseScore,
    watermarkScore,
    hasWatermark: watermarkScore >= params.watermark_threshold,
    dynamicRangeScore,
    isDynamicRangeAcceptable: dynamicRangeScore >= params.dynamic_range_threshold,
    backgroundUniformityScore,
    isBackgroundUniform: backgroundUniformityScore >= params.background_uniformity_threshold,
  };
}
