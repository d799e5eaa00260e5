import type { Box } from '../../geometry/box.js';
import type { Point } from '../../geometry/similarity.js';
import type { RgbImage } from '../../image/rgb-image.js';
import { alignFace } from '../face-aligner.js';
import type { FaceCapturer } from '../face-capturer.js';
import type { Landmarks68 } from '../landmarks.js';
import { backgroundStats, type BackgroundStats } from './background.js';
import { EyeModel } from './eyes.js';
import { alignedInsideShare, eyeDistance, eyeLineRoll, faceExtent, margins, maxRotation, type Angles, type Margins } from './geometry.js';
import { heuristicMaskSignal, type MaskSignal } from './mask.js';
import { geometryEmotionSignal, type EmotionSignal } from './neutral.js';
import { defaultQualityParams, type QualityParams } from './params.js';
import { ALIGNED, noiseSigma, photometricStats, type PhotometricStats } from './photometric.js';
import { scoreQuality, type Qaa } from './scores.js';
import { WM_SIZE, watermarkStats, type WatermarkStats } from './watermark.js';

/** One face to assess, as the face-estimator flow hands it over (structurally its FaceRegion). */
export interface QualityFace {
  box: Box;
  score: number;
  /** Eye centres, nose tip, mouth corners (image-left first), pixels. */
  five: Point[];
  landmarks: Landmarks68 | null;
  angles: Angles | null;
  /** The whole image stands for the face (no face objects given): its "box" is no detector box. */
  wholeImage?: boolean;
}

/** The raw, physical measurements behind the 29 fields (docs/quality.md gives each formula). */
export interface QualityMeasurements {
  photometric: PhotometricStats;
  noiseSigma: number;
  eyesOpen: [number, number];
  angles: Angles;
  maxRotation: number;
  /** Share of the aligned inner face whose pixels exist in the image. */
  alignedInside: number;
  eyesDistance: number;
  margins: Margins;
  background: BackgroundStats;
  watermark: WatermarkStats;
  pMask: number;
  pNeutral: number;
}

export class QualityAssessor {
  private constructor(
    readonly params: QualityParams,
    private readonly eyes: EyeModel,
    readonly mask: MaskSignal,
    readonly emotion: EmotionSignal,
  ) {}

  static async create(
    params: QualityParams = defaultQualityParams(),
    signals: { mask?: MaskSignal; emotion?: EmotionSignal } = {},
  ): Promise<QualityAssessor> {
    return new QualityAssessor(params, await EyeModel.create(), signals.mask ?? heuristicMaskSignal, signals.emotion ?? geometryEmotionSignal);
  }

  async measure(img: RgbImage, face: QualityFace, capturer: FaceCapturer): Promise<QualityMeasurements> {
    let { landmarks, angles } = face;
    if (!landmarks || !angles) {
      // Faces from a client carry 21 fda points, not the 68 the eye crops need: fit them once (and run the
      // pose model only if the client sent no angles: the fitter's objects carry them).
      const fitted = await capturer.fit(img, face.box, face.score, !angles);
      landmarks ??= fitted.landmarks;
      angles ??= fitted.angles;
    }
    const aligned = alignFace(img, face.five, ALIGNED);
    const extent = faceExtent(face.box, landmarks);
    return {
      photometric: photometricStats(aligned),
      noiseSigma: noiseSigma(img, face.box),
      eyesOpen: await this.eyes.openness(img, landmarks),
      angles,
      maxRotation: maxRotation(angles, eyeLineRoll(face.five[0], face.five[1])),
      alignedInside: alignedInsideShare(face.five, img.width, img.height),
      eyesDistance: eyeDistance(face.five[0], face.five[1]),
      margins: margins(extent, img.width, img.height, this.params.margin_ratio, face.wholeImage ? null : face.box),
      background: backgroundStats(img, face.box),
      watermark: watermarkStats(alignFace(img, face.five, WM_SIZE)),
      pMask: await this.mask.pMask(img, aligned, face.five),
      pNeutral: await this.emotion.pNeutral(img, { box: face.box, five: face.five, landmarks }),
    };
  }

  async assess(img: RgbImage, face: QualityFace, capturer: FaceCapturer): Promise<Qaa> {
    return scoreQuality(await this.measure(img, face, capturer), this.params);
  }
}
