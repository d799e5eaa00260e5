import type { Box } from '../../geometry/box.js';
import type { Point } from '../../geometry/similarity.js';
import type { RgbImage } from '../../image/rgb-image.js';
import type { Landmarks68 } from '../landmarks.js';

/**
 * The neutral-expression signal. `EmotionSignal` is what the assessor needs: p(neutral) for one face.
 * Two sources implement it: the emotion block (shared/blocks/emotion.ts) when present, else the
 * landmark-geometry fallback below.
 */
export interface EmotionSignal {
  readonly source: string;
  pNeutral(img: RgbImage, face: { box: Box; five: readonly Point[]; landmarks: Landmarks68 }): Promise<number>;
}

export interface ExpressionGeometry {
  /** Mouth corner-to-corner width ÷ eye-centre distance (wider when smiling). */
  mouthWidth: number;
  /** Inner-lip gap ÷ eye-centre distance (open mouth: surprise, fear, laughing). */
  mouthOpen: number;
  /** How far the mouth corners sit above the lips' centre line ÷ eye-centre distance (smile > 0). */
  cornerLift: number;
  /** Brow height above the eye centres ÷ eye-centre distance (raised in surprise, fear). */
  browRaise: number;
}

const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];

/** Ratios from the 68 points in the face's own frame (roll removed), so they do not depend on size or tilt. */
export function expressionGeometry(pts: Landmarks68): ExpressionGeometry {
  const le = mid(mid(pts[37], pts[38]), mid(pts[40], pts[41]));
  const re = mid(mid(pts[43], pts[44]), mid(pts[46], pts[47]));
  const d = Math.hypot(re[0] - le[0], re[1] - le[1]) || 1;
  const ux = [(re[0] - le[0]) / d, (re[1] - le[1]) / d];
  // Face-down axis: the eye line turned 90° clockwise in image coordinates (y grows downwards).
  const down = (p: Point, q: Point) => ((q[0] - p[0]) * -ux[1] + (q[1] - p[1]) * ux[0]) / d;
  const along = (p: Point, q: Point) => ((q[0] - p[0]) * ux[0] + (q[1] - p[1]) * ux[1]) / d;
  const lipCentre = mid(pts[51], pts[57]);
  const corners = mid(pts[48], pts[54]);
  const eyes = mid(le, re);
  const brows = mid(mid(pts[19], pts[20]), mid(pts[23], pts[24]));
  return {
    mouthWidth: along(pts[48], pts[54]),
    mouthOpen: Math.max(0, down(pts[62], pts[66])),
    cornerLift: down(corners, lipCentre),
    browRaise: down(brows, eyes),
  };
}

/**
 * Fallback p(neutral) from the geometry alone: 1 for a closed, unstretched mouth with level corners and
 * resting brows, falling as each ratio passes its resting range. The ranges were read from frontal
 * faces (see docs/quality.md); it sees smiles and open mouths, not frowns, disgust or sadness.
 */
export function neutralFromGeometry(g: ExpressionGeometry): number {
  const over = (v: number, rest: number, span: number) => Math.max(0, v - rest) / span;
  const z = over(g.mouthWidth, 1.0, 0.15) ** 2 + over(g.mouthOpen, 0.06, 0.1) ** 2 + over(g.cornerLift, 0.04, 0.06) ** 2 + over(g.browRaise, 0.55, 0.12) ** 2;
  return Math.exp(-z);
}

export const geometryEmotionSignal: EmotionSignal = {
  source: 'fallback: landmark geometry (mouth width, opening, corner lift, brow raise)',
  async pNeutral(_img, face) {
    return neutralFromGeometry(expressionGeometry(face.landmarks));
  },
};
