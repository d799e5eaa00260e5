import { estimateSimilarity, invertAffine, type Point } from '../geometry/similarity.js';
import { warpAffine } from '../image/warp.js';
import type { RgbImage } from '../image/rgb-image.js';

/** The ArcFace 112×112 reference positions of eye centres, nose tip and mouth corners. */
export const ARCFACE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** 5-point similarity alignment of a face to the 112×112 reference; returns an RGB patch. */
export function alignFace(img: RgbImage, five: readonly Point[], size = 112): Uint8Array {
  const scale = size / 112;
  const reference = ARCFACE_112.map(([x, y]) => [x * scale, y * scale] as const);
  const srcToDst = estimateSimilarity(five, reference);
  return warpAffine(img, invertAffine(srcToDst), size, size);
}
