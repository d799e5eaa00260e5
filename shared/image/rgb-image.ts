/**
 * The one pixel representation the blocks share: 8-bit RGB, row-major, 3 bytes a pixel, decoded once
 * per request. Blocks read from it with typed-array loops; nothing copies it.
 */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  /**
   * Pixels of the original image per decoded pixel (1 unless an image over MAX_IMAGE_PIXELS was
   * downscaled at decode). Outputs in pixels (keypoints, eye centres) are multiplied by it.
   */
  readonly scale?: number;
}
