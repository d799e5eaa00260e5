import sharp, { type Metadata } from 'sharp';
import { ApiError, Messages } from '../contract/errors.js';
import { BmpError, bmpSize, decodeBmp, isBmp } from './bmp.js';
import type { RgbImage } from './rgb-image.js';

export interface DecodeLimits {
  /**
   * Largest width × height decoded. A larger image (up to maxInputPixels) is downscaled while it decodes
   * (JPEG shrink-on-load), so a 24 MP phone photo costs the memory of a 12 MP one.
   */
  maxPixels: number;
  /** Largest width × height accepted at all; decompression bombs are refused before pixels are allocated. */
  maxInputPixels?: number;
  /**
   * Called with width × height once the header is read and the size accepted, before any pixel is
   * decoded; the decode waits for it (the HTTP layer's per-process pixel budget).
   */
  admit?: (pixels: number) => Promise<void>;
}

/** Formats decoded by libvips that the API accepts (the contract's JPEG/PNG, plus WebP, TIFF, GIF's first frame). */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif']);

sharp.cache(false); // every request decodes a different image; libvips' operation cache would only hold memory

const inputLimit = (limits: DecodeLimits) => Math.max(limits.maxPixels, limits.maxInputPixels ?? limits.maxPixels);

function tooLarge(width: number, height: number, limits: DecodeLimits): ApiError {
  return new ApiError(
    400,
    `Image is too large: ${width}×${height} = ${width * height} pixels exceeds the limit of ${inputLimit(limits)} (MAX_INPUT_PIXELS)`,
  );
}

/** What the header says, checked against the limits: enough to admit the image and to decode it. */
export interface ImageInspection {
  format: 'bmp' | 'sharp';
  /** Stored size (before EXIF orientation). */
  width: number;
  height: number;
  /** EXIF orientation (1 when absent). */
  orientation: number;
  /** Pixels the decode will produce (after any downscale to maxPixels): what admission counts. */
  decodedPixels: number;
}

/**
 * Reads the header only: refuses what cannot or must not be decoded (unknown format, no size, more
 * than maxInputPixels; a BMP over maxPixels) before any pixel is allocated.
 */
export async function inspectImage(bytes: Uint8Array, limits: DecodeLimits): Promise<ImageInspection> {
  const buffer = asBuffer(bytes);
  if (isBmp(buffer)) {
    try {
      const { width, height } = bmpSize(buffer);
      // BMP has no shrink-on-load: it is decoded whole, so the decoded-size limit is its limit.
      if (width * height > limits.maxPixels) throw tooLarge(width, height, { maxPixels: limits.maxPixels });
      return { format: 'bmp', width, height, orientation: 1, decodedPixels: width * height };
    } catch (error) {
      if (error instanceof BmpError) throw new ApiError(400, Messages.badFormat);
      throw error;
    }
  }
  let meta: Metadata;
  try {
    meta = await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch {
    throw new ApiError(400, Messages.badFormat);
  }
  if (!meta.format || !ACCEPTED.has(meta.format)) throw new ApiError(400, Messages.badFormat);
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ApiError(400, Messages.badFormat);
  if (width * height > inputLimit(limits)) throw tooLarge(width, height, limits);
  return { format: 'sharp', width, height, orientation: meta.orientation ?? 1, decodedPixels: Math.min(width * height, limits.maxPixels) };
}

/**
 * Encoded bytes → 8-bit sRGB pixels with EXIF orientation applied, alpha flattened onto white and
 * grey, CMYK or 16-bit input converted. Everything that cannot be decoded is the contract's
 * "format not supported" error; nothing here writes the image anywhere.
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits): Promise<RgbImage> {
  const inspection = await inspectImage(bytes, limits);
  await limits.admit?.(inspection.decodedPixels);
  return decodeInspected(bytes, inspection, limits);
}

/** The decode half of decodeImage, for bytes inspectImage accepted (possibly on another thread). */
export async function decodeInspected(bytes: Uint8Array, inspection: ImageInspection, limits: DecodeLimits): Promise<RgbImage> {
  const buffer = asBuffer(bytes);
  if (inspection.format === 'bmp') {
    try {
      return decodeBmp(buffer);
    } catch (error) {
      if (error instanceof BmpError) throw new ApiError(400, Messages.badFormat);
      throw error;
    }
  }
  const { width, height, orientation } = inspection;
  const shrink = Math.min(1, Math.sqrt(limits.maxPixels / (width * height)));
  try {
    let pipeline = sharp(buffer, {
      limitInputPixels: inputLimit(limits),
      failOn: 'error', // a truncated file is an error, not a half-grey image
      pages: 1,
    }).autoOrient();
    const swapped = orientation >= 5; // EXIF orientations 5–8 swap width and height
    if (shrink < 1) {
      const [w, h] = swapped ? [height, width] : [width, height];
      pipeline = pipeline.resize(Math.max(1, Math.floor(w * shrink)), Math.max(1, Math.floor(h * shrink)), { fit: 'fill' });
    }
    const { data, info } = await pipeline
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    const orientedWidth = swapped ? height : width;
    return { data, width: info.width, height: info.height, scale: orientedWidth / info.width };
  } catch {
    throw new ApiError(400, Messages.badFormat);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
