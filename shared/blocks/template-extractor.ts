import type { Point } from '../geometry/similarity.js';
import type { RgbImage } from '../image/rgb-image.js';
import { patchToTensor } from '../image/tensor.js';
import { mirrorPatch } from '../image/warp.js';
import { loadModel, ort, type Model } from '../models/session.js';
import { alignFace } from './face-aligner.js';

export interface RecognizerParams {
  /** Embedding model; `fr_feature` is the MobileFaceNet-512 shipped from faceplugin. */
  model: 'fr_feature';
  /** Test-time augmentation: also embed the mirrored face and average (2× the inference). */
  flip_augmentation: boolean;
}

const SIZE = 112;
/** BGR (v − 127) / 128: BGR measured AUC 0.9999 against RGB's lower figure on the verification set. */
const SPEC = { order: 'bgr', mean: [127, 127, 127], std: [128, 128, 128], layout: 'nchw' } as const;

export function l2normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

export interface Embedding {
  /** L2-normalised. */
  vector: Float32Array;
  /** Norm before normalisation: drops with blur and occlusion (a quality signal). */
  rawNorm: number;
}

export class TemplateExtractor {
  private constructor(private readonly session: Model) {}

  static async create(params: RecognizerParams): Promise<TemplateExtractor> {
    return new TemplateExtractor(await loadModel(params.model, { input: [1, 3, SIZE, SIZE] }, 2));
  }

  async embedAligned(patch: Uint8Array, flip: boolean): Promise<Embedding> {
    const batch = flip ? 2 : 1;
    const input = new Float32Array(batch * 3 * SIZE * SIZE);
    patchToTensor(patch, SIZE, SIZE, SPEC, input, 0);
    let raw: Float32Array;
    if (flip) {
      // The graph is fixed at batch 1, so the mirrored face is a second run.
      patchToTensor(mirrorPatch(patch, SIZE, SIZE), SIZE, SIZE, SPEC, input, 3 * SIZE * SIZE);
      const a = await this.run(input.subarray(0, 3 * SIZE * SIZE));
      const b = await this.run(input.subarray(3 * SIZE * SIZE));
      raw = a.map((x, i) => (x + b[i]) / 2);
    } else {
      raw = await this.run(input);
    }
    let n = 0;
    for (const x of raw) n += x * x;
    return { vector: l2normalise(raw), rawNorm: Math.sqrt(n) };
  }

  async embed(img: RgbImage, five: readonly Point[], flip: boolean): Promise<Embedding> {
    return this.embedAligned(alignFace(img, five, SIZE), flip);
  }

  private async run(input: Float32Array): Promise<Float32Array> {
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
    return new Float32Array(out[this.session.outputNames[0]].data as Float32Array);
  }
}
