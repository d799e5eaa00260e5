import sharp from 'sharp';
import { boxHeight, boxWidth, type Box } from '../geometry/box.js';
import { nms } from '../geometry/nms.js';
import type { RgbImage } from '../image/rgb-image.js';
import { loadModel, ort, type Model } from '../models/session.js';

/** Capturer parameters the detector honours (names as in the original's capturer config files). */
export interface FaceDetectorParams {
  score_threshold: number;
  coarse_score_threshold: number;
  nms_iou_threshold: number;
  /** Smallest face kept, in pixels of the original image (the detector box's shorter side). */
  min_size: number;
  /** 1 = one pass over the whole image; 2 adds a 2×2 grid of overlapping tiles; 3 also a 3×3 grid. */
  precision_level: number;
  /** Score a face found only in a tile (precision_level ≥ 2) must reach. */
  tile_score_threshold: number;
  max_faces: number;
}

export interface DetectedFace {
  box: Box;
  score: number;
}

const IN_W = 320;
const IN_H = 240;
const MODEL = 'fr_detect';

interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Letterboxes a region of the image into the model's fixed 320×240 input (aspect kept, padded right and
 * bottom with zeros) as NCHW RGB `(v − 127) / 128`. sharp does the resampling: it filters properly when
 * shrinking a 1920-px photo, which JS bilinear would alias.
 */
async function letterbox(img: RgbImage, r: Region, out: Float32Array): Promise<{ sx: number; sy: number }> {
  const scale = Math.min(IN_W / r.w, IN_H / r.h);
  const rw = Math.max(1, Math.min(IN_W, Math.round(r.w * scale)));
  const rh = Math.max(1, Math.min(IN_H, Math.round(r.h * scale)));
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (r.x !== 0 || r.y !== 0 || r.w !== img.width || r.h !== img.height) {
    pipeline = pipeline.extract({ left: r.x, top: r.y, width: r.w, height: r.h });
  }
  const pixels = await pipeline.resize(rw, rh, { fit: 'fill' }).raw().toBuffer();
  out.fill(-127 / 128);
  const plane = IN_W * IN_H;
  for (let y = 0; y < rh; y++) {
    for (let x = 0, p = y * rw * 3, o = y * IN_W; x < rw; x++, p += 3, o++) {
      out[o] = (pixels[p] - 127) / 128;
      out[plane + o] = (pixels[p + 1] - 127) / 128;
      out[2 * plane + o] = (pixels[p + 2] - 127) / 128;
    }
  }
  return { sx: rw / r.w, sy: rh / r.h };
}

/** The regions one precision level scans: the whole image, then grids of tiles overlapping by half. */
export function scanRegions(width: number, height: number, precisionLevel: number): Region[] {
  const regions: Region[] = [{ x: 0, y: 0, w: width, h: height }];
  for (let n = 2; n <= Math.min(3, precisionLevel); n++) {
    // n tiles per axis, each 2/(n+1) of the side, so neighbours overlap by half a tile.
    const tw = Math.round((2 * width) / (n + 1));
    const th = Math.round((2 * height) / (n + 1));
    if (tw < 32 || th < 32) break;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        regions.push({ x: Math.round((i * (width - tw)) / (n - 1)), y: Math.round((j * (height - th)) / (n - 1)), w: tw, h: th });
      }
    }
  }
  return regions;
}

export class FaceDetector {
  private constructor(private readonly session: Model) {}

  static async create(): Promise<FaceDetector> {
    return new FaceDetector(await loadModel(MODEL, { input: [1, 3, IN_H, IN_W] }));
  }

  async detect(img: RgbImage, params: FaceDetectorParams): Promise<DetectedFace[]> {
    const regions = scanRegions(img.width, img.height, params.precision_level);
    const input = new Float32Array(3 * IN_W * IN_H);
    const threshold = Math.min(params.coarse_score_threshold, params.score_threshold);
    const candidates: DetectedFace[] = [];
    for (const region of regions) {
      const { sx, sy } = await letterbox(img, region, input);
      const result = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, IN_H, IN_W]) });
      const scores = result.scores.data as Float32Array;
      const boxes = result.boxes.data as Float32Array;
      const edge = 2;
      for (let i = 0; i < scores.length / 2; i++) {
        const score = scores[2 * i + 1];
        if (score < threshold) continue;
        const isTile = region !== regions[0];
        // Upscaled tiles see texture the whole-image pass smooths away, and fire on it more often:
        // measured on the crowd set, a stricter bar for tile-only finds buys back 5 points of precision.
        if (isTile && score < params.tile_score_threshold) continue;
        const box: Box = {
          x1: region.x + (boxes[4 * i] * IN_W) / sx,
          y1: region.y + (boxes[4 * i + 1] * IN_H) / sy,
          x2: region.x + (boxes[4 * i + 2] * IN_W) / sx,
          y2: region.y + (boxes[4 * i + 3] * IN_H) / sy,
        };
        // A face cut by a tile's inner edge is a partial box; the whole face is found by another scan.
        if (
          isTile &&
          ((box.x1 <= region.x + edge && region.x > 0) ||
            (box.y1 <= region.y + edge && region.y > 0) ||
            (box.x2 >= region.x + region.w - edge && region.x + region.w < img.width) ||
            (box.y2 >= region.y + region.h - edge && region.y + region.h < img.height))
        ) {
          continue;
        }
        candidates.push({ box, score });
      }
    }
    return nms(candidates, params.nms_iou_threshold)
      .filter((f) => f.score >= params.score_threshold)
      .filter((f) => Math.min(boxWidth(f.box), boxHeight(f.box)) >= params.min_size)
      .slice(0, params.max_faces);
  }
}
