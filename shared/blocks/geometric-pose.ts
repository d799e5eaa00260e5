import type { HeadAngles } from './head-pose.js';
import { eyeCentres, type Landmarks68 } from './landmarks.js';

const DEG = 180 / Math.PI;

/**
 * Head angles from the 68 landmarks alone (no extra inference): roll from the eye line, yaw from where
 * the nose tip sits between the jaw's ends, pitch from where it sits between the eye line and the mouth.
 * Coarser than fr_pose (see README), signs as there.
 */
export function anglesFromLandmarks(pts: Landmarks68): HeadAngles {
  const [le, re] = eyeCentres(pts);
  const roll = Math.atan2(re[1] - le[1], re[0] - le[0]) * DEG;
  // Undo roll so yaw and pitch are measured along the face's own axes.
  const c = Math.cos(-roll / DEG), s = Math.sin(-roll / DEG);
  const rot = (p: readonly number[]) => [c * p[0] - s * p[1], s * p[0] + c * p[1]];
  const [jl, jr, nose, eyeL, eyeR, mouth] = [pts[0], pts[16], pts[30], le, re, [(pts[51][0] + pts[57][0]) / 2, (pts[51][1] + pts[57][1]) / 2]].map(rot);
  const half = (jr[0] - jl[0]) / 2 || 1;
  const yawRatio = Math.max(-1, Math.min(1, (nose[0] - (jl[0] + jr[0]) / 2) / half));
  const eyeY = (eyeL[1] + eyeR[1]) / 2;
  const pitchRatio = (nose[1] - eyeY) / ((mouth[1] - eyeY) || 1);
  return {
    yaw: -Math.asin(yawRatio) * DEG,
    // ≈0.6 on a frontal face: the nose tip sits lower in the eye–mouth span when the head tilts down.
    pitch: Math.max(-90, Math.min(90, (0.6 - pitchRatio) * 150)),
    roll,
  };
}
