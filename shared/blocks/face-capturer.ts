import type { CapturerParams } from '../config/config-object.js';
import type { Box } from '../geometry/box.js';
import type { RgbImage } from '../image/rgb-image.js';
import { FaceDetector } from './face-detector.js';
import { anglesFromLandmarks } from './geometric-pose.js';
import { HeadPoseModel, type HeadAngles } from './head-pose.js';
import { LandmarkModel, type Landmarks68 } from './landmarks.js';

export interface CapturedFace {
  box: Box;
  score: number;
  landmarks: Landmarks68;
  angles: HeadAngles;
}

/** The capturer config object as a block: detect, fit 68 landmarks, measure head angles. */
export class FaceCapturer {
  private constructor(
    readonly params: CapturerParams,
    private readonly detector: FaceDetector,
    private readonly landmarks: LandmarkModel,
    private readonly pose: HeadPoseModel | null,
  ) {}

  static async create(params: CapturerParams): Promise<FaceCapturer> {
    const [detector, landmarks, pose] = await Promise.all([
      FaceDetector.create(),
      LandmarkModel.create(),
      params.angles === 'pose' ? HeadPoseModel.create() : Promise.resolve(null),
    ]);
    return new FaceCapturer(params, detector, landmarks, pose);
  }

  /**
   * Fits landmarks and angles to a face box (from the detector or from the client). `poseModel: false`
   * takes the angles from the landmarks' geometry instead, for callers that do not report them.
   */
  async fit(img: RgbImage, box: Box, score: number, poseModel = true): Promise<CapturedFace> {
    const landmarks = await this.landmarks.run(img, box);
    const angles = this.pose && poseModel ? await this.pose.run(img, box) : anglesFromLandmarks(landmarks);
    return { box, score, landmarks, angles };
  }

  async capture(img: RgbImage): Promise<CapturedFace[]> {
    const faces = await this.detector.detect(img, this.params);
    const out: CapturedFace[] = [];
    for (const f of faces) out.push(await this.fit(img, f.box, f.score));
    return out;
  }
}
