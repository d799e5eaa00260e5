import type { Box } from '../geometry/box.js';
import { EmotionLabels } from '../contract/objects.js';
import { cropResize } from '../image/warp.js';
import type { RgbImage } from '../image/rgb-image.js';
import { patchToTensor, type TensorSpec } from '../image/tensor.js';
import { loadModel, ort, type Model } from '../models/session.js';
import { faceSquare } from './landmarks.js';

export type EmotionLabel = (typeof EmotionLabels)[number];
export interface EmotionScore {
  emotion: EmotionLabel;
  confidence: number;
}

export const EmotionModelNames = ['fr_expression', 'emotion'] as const;
export type EmotionModelName = (typeof EmotionModelNames)[number];

/**
 * Both models emit the FER-2013 class order (angry, disgust, fear, happy, sad, surprise, neutral), checked
 * on the FER-2013 dev split: each class's largest confusion-matrix cell is on the diagonal (for the
 * mini-Xception, fear ties with sad at 11 of 39). Mapped here to the contract's names.
 */
export const FER2013_ORDER: readonly EmotionLabel[] = ['ANGRY', 'DISGUSTED', 'SCARED', 'HAPPY', 'SAD', 'SURPRISED', 'NEUTRAL'];

interface Spec {
  input: string;
  size: number;
  tensor: TensorSpec;
  /** The graph ends in a Softmax (mini-Xception) or returns logits (the DenseNet). */
  output: 'logits' | 'probabilities';
  /** Largest batch the exported graph takes. */
  maxBatch: number;
  /** Intra-op threads (see sessionOptions): the DenseNet gains from two, mini-Xception does not. */
  threads: number;
}

const SPECS: Record<EmotionModelName, Spec> = {
  // DenseNet-121 (faceplugin): 224² RGB /255, NCHW, fixed batch 1.
  fr_expression: { input: 'input', size: 224, tensor: { order: 'rgb', mean: [0, 0, 0], std: [255, 255, 255], layout: 'nchw' }, output: 'logits', maxBatch: 1, threads: 2 },
  // mini-Xception (oarriaga, converted from human-models): 64² grey, (g/255 − 0.5)·2, NHWC.
  emotion: { input: 'input_1', size: 64, tensor: { order: 'grey', mean: [127.5], std: [127.5], layout: 'nhwc' }, output: 'probabilities', maxBatch: 16, threads: 1 },
};

const DIGITS = 1e5;

/**
 * One model output vector (FER-2013 order) → all seven contract labels in the contract's order, with
 * confidences that sum to 1: softmax in double precision, rounded to 5 decimals, and the rounding
 * residue given to the largest so the rounded values still sum to 1 (to within 1e-12).
 */
export function contractEmotions(scores: ArrayLike<number>, kind: 'logits' | 'probabilities', order: readonly EmotionLabel[] = FER2013_ORDER): EmotionScore[] {
  if (scores.length !== order.length) throw new Error(`emotion: expected ${order.length} scores, got ${scores.length}`);
  const p: number[] = [];
  if (kind === 'logits') {
    let max = -Infinity;
    for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]);
    for (let i = 0; i < scores.length; i++) p.push(Math.exp(scores[i] - max));
  } else {
    for (let i = 0; i < scores.length; i++) p.push(Math.max(0, scores[i]));
  }
  const total = p.reduce((a, b) => a + b, 0);
  const byLabel = new Map<EmotionLabel, number>();
  order.forEach((label, i) => byLabel.set(label, total > 0 ? p[i] / total : 1 / order.length));
  const out = EmotionLabels.map((emotion) => ({ emotion, confidence: Math.round(byLabel.get(emotion)! * DIGITS) / DIGITS }));
  const top = out.reduce((m, e, i) => (e.confidence > out[m].confidence ? i : m), 0);
  const rest = out.reduce((s, e, i) => (i === top ? s : s + e.confidence), 0);
  out[top].confidence = Math.round((1 - rest) * DIGITS) / DIGITS;
  return out;
}

/**
 * The face crop both models see: the square the landmark and pose models also start from (side = box
 * height, same centre, kept inside the image). FER-2013 and CK+ chips frame a face the same way: the
 * detector's box on an upscaled chip has a median height of 1.00–1.09 chip sides, centred.
 * For whole-image input (no face objects) the box is the image, so a square chip is used as it is.
 *
 * Measured (dev split, fr_expression): the chips as they are, FER-2013 66.7 % / CK+ 65.5 %. With the chips
 * upscaled ×3 on a grey canvas and detected first: this square 62.5 / 61.9 %; the vendor's crop (box
 * top-left, width and height ×1.2) 49.6 / 59.3 % on the detector box, 52.6 / 61.5 % on the square box;
 * a centred ×1.2 square 53.3 / 59.3 %. The mini-Xception also does best on this square (53.7 / 56.2 %).
 */
export function emotionCrop(box: Box, img: RgbImage): Box {
  return faceSquare(box, img.width, img.height);
}

export class EmotionModel {
  private constructor(
    readonly name: EmotionModelName,
    private readonly session: Model,
  ) {}

  static async create(name: EmotionModelName): Promise<EmotionModel> {
    const spec = SPECS[name];
    const channels = spec.tensor.order === 'grey' ? 1 : 3;
    const shape = spec.tensor.layout === 'nchw' ? [1, channels, spec.size, spec.size] : [1, spec.size, spec.size, channels];
    return new EmotionModel(name, await loadModel(name, { [spec.input]: shape }, spec.threads));
  }

  /** All seven contract emotions for each face box, in order. */
  async run(img: RgbImage, boxes: readonly Box[]): Promise<EmotionScore[][]> {
    const spec = SPECS[this.name];
    const { size } = spec;
    const channels = spec.tensor.order === 'grey' ? 1 : 3;
    const per = size * size * channels;
    const out: EmotionScore[][] = [];
    for (let start = 0; start < boxes.length; start += spec.maxBatch) {
      const batch = boxes.slice(start, start + spec.maxBatch);
      const input = new Float32Array(batch.length * per);
      batch.forEach((box, k) => {
        const c = emotionCrop(box, img);
        patchToTensor(cropResize(img, c.x1, c.y1, c.x2 - c.x1, c.y2 - c.y1, size, size), size, size, spec.tensor, input, k * per);
      });
      const shape = spec.tensor.layout === 'nchw' ? [batch.length, channels, size, size] : [batch.length, size, size, channels];
      const result = await this.session.run({ [spec.input]: new ort.Tensor('float32', input, shape) });
      const scores = result[this.session.outputNames[0]].data as Float32Array;
      const classes = scores.length / batch.length;
      for (let k = 0; k < batch.length; k++) out.push(contractEmotions(scores.subarray(k * classes, (k + 1) * classes), spec.output));
    }
    return out;
  }
}
