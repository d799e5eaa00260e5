import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Point } from '../geometry/similarity.js';
import type { RgbImage } from '../image/rgb-image.js';
import { modelsDir } from '../models/manifest.js';
import { alignFace } from './face-aligner.js';
import { TemplateExtractor } from './template-extractor.js';

/**
 * The medical-mask classifier: a logistic probe over (a) the L2-normalised `fr_feature` embedding of the
 * 5-point-aligned 112×112 face and (b) a few colour/texture statistics of the lower face against the
 * upper face, read from fixed regions of the same aligned patch. The weights come from
 * scripts/train-mask-probe.ts (trained on synthetic masks only) and live in models/mask/mask-probe.json.
 */

const SIZE = 112;

/** Regions of the ArcFace-aligned 112×112 patch (eyes at y ≈ 52, nose tip ≈ 72, mouth ≈ 92): [x0, y0, x1, y1). */
const REGIONS = {
  /** Mouth and chin: what a mask hides. */
  lower: [32, 80, 80, 108],
  /** The nose below the bridge: covered by a worn mask, bare otherwise. */
  nose: [46, 62, 66, 78],
  /** Cheeks beside the nose. */
  cheeks: [[22, 60, 38, 76], [74, 60, 90, 76]],
  /** Forehead and brow line: the face's own skin colour in both classes. */
  upper: [36, 16, 76, 34],
  /** The lips. */
  mouth: [40, 86, 72, 99],
} as const;

type Rect = readonly [number, number, number, number];

/** Names of the statistics, in feature order; a probe lists the ones it uses. */
export const STAT_NAMES = [
  'lower_minus_upper_luma',
  'lower_minus_upper_cb',
  'lower_minus_upper_cr',
  'lower_chroma_distance',
  'lower_skin_fraction',
  'nose_skin_fraction',
  'cheek_skin_fraction',
  'lower_over_upper_log_contrast',
  'lower_over_upper_log_gradient',
  'lower_minus_upper_saturation',
  'mouth_minus_cheek_cr',
  'mouth_over_upper_log_vertical_gradient',
  'embedding_log_norm',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

interface RegionStats {
  n: number;
  y: number;
  cb: number;
  cr: number;
  ySd: number;
  grad: number;
  /** Mean |luma difference| to the pixel below: lips and the mouth line are horizontal edges. */
  vgrad: number;
  sat: number;
}

function ycc(p: Uint8Array, o: number): [number, number, number] {
  const r = p[o], g = p[o + 1], b = p[o + 2];
  return [0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b];
}

function regionStats(p: Uint8Array, rects: readonly Rect[]): RegionStats {
  let n = 0, y = 0, yy = 0, cb = 0, cr = 0, grad = 0, vgrad = 0, sat = 0;
  for (const [x0, y0, x1, y1] of rects) {
    for (let v = y0; v < y1; v++) {
      for (let u = x0; u < x1; u++) {
        const o = (v * SIZE + u) * 3;
        const [l, b, r] = ycc(p, o);
        const mx = Math.max(p[o], p[o + 1], p[o + 2]), mn = Math.min(p[o], p[o + 1], p[o + 2]);
        const right = ycc(p, o + 3)[0], down = ycc(p, o + SIZE * 3)[0];
        n++; y += l; yy += l * l; cb += b; cr += r;
        grad += Math.abs(right - l) + Math.abs(down - l);
        vgrad += Math.abs(down - l);
        sat += mx > 0 ? (mx - mn) / mx : 0;
      }
    }
  }
  const my = y / n;
  return { n, y: my, cb: cb / n, cr: cr / n, ySd: Math.sqrt(Math.max(0, yy / n - my * my)), grad: grad / n, vgrad: vgrad / n, sat: sat / n };
}

/** Share of a region's pixels whose chroma is within reach of the reference skin chroma (adaptive to skin tone and colour cast). */
function skinFraction(p: Uint8Array, rects: readonly Rect[], cb0: number, cr0: number): number {
  let n = 0, k = 0;
  for (const [x0, y0, x1, y1] of rects) {
    for (let v = y0; v < y1; v++) {
      for (let u = x0; u < x1; u++) {
        const [, b, r] = ycc(p, (v * SIZE + u) * 3);
        n++;
        if (Math.hypot(b - cb0, r - cr0) < 9) k++;
      }
    }
  }
  return k / n;
}

/** All statistics of STAT_NAMES for an aligned 112×112 RGB patch and its embedding's norm before normalisation. */
export function faceStats(patch: Uint8Array, embeddingNorm: number): Record<StatName, number> {
  const up = regionStats(patch, [REGIONS.upper]);
  const lo = regionStats(patch, [REGIONS.lower]);
  const mouth = regionStats(patch, [REGIONS.mouth]);
  const cheeks = regionStats(patch, REGIONS.cheeks);
  return {
    lower_minus_upper_luma: (lo.y - up.y) / 128,
    lower_minus_upper_cb: (lo.cb - up.cb) / 32,
    lower_minus_upper_cr: (lo.cr - up.cr) / 32,
    lower_chroma_distance: Math.hypot(lo.cb - up.cb, lo.cr - up.cr) / 32,
    lower_skin_fraction: skinFraction(patch, [REGIONS.lower], up.cb, up.cr),
    nose_skin_fraction: skinFraction(patch, [REGIONS.nose], up.cb, up.cr),
    cheek_skin_fraction: skinFraction(patch, REGIONS.cheeks, up.cb, up.cr),
    lower_over_upper_log_contrast: Math.log((lo.ySd + 2) / (up.ySd + 2)),
    lower_over_upper_log_gradient: Math.log((lo.grad + 1) / (up.grad + 1)),
    lower_minus_upper_saturation: lo.sat - up.sat,
    mouth_minus_cheek_cr: (mouth.cr - cheeks.cr) / 32,
    mouth_over_upper_log_vertical_gradient: Math.log((mouth.vgrad + 1) / (up.vgrad + 1)),
    // Occlusion lowers the un-normalised embedding norm (as blur does).
    embedding_log_norm: Math.log(Math.max(1e-3, embeddingNorm)),
  };
}

export const MaskProbe = z.object({
  format: z.literal('image-api/mask-probe@1'),
  feature_spec: z.object({
    alignment: z.string(),
    embedding: z.object({ model: z.literal('fr_feature'), dims: z.literal(512), normalisation: z.literal('l2') }),
    stats: z.array(z.enum(STAT_NAMES)),
  }),
  /** Over [embedding…, stats…], already divided by the training features' standard deviations. */
  weights: z.array(z.number()),
  bias: z.number(),
  /** p(mask) at or above which the answer is "mask"; the reported confidence is re-centred on it. */
  threshold: z.number().gt(0).lt(1),
  threshold_source: z.string(),
  training: z.record(z.string(), z.unknown()),
}).refine((p) => p.weights.length === p.feature_spec.embedding.dims + p.feature_spec.stats.length, {
  message: 'weights must have one entry per embedding dimension and statistic',
});
export type MaskProbe = z.infer<typeof MaskProbe>;

export const defaultProbePath = () => join(modelsDir(), 'mask', 'mask-probe.json');

export function readProbe(path = defaultProbePath()): MaskProbe {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`mask probe ${path}: ${e instanceof Error ? e.message : String(e)} (train it with node dist/scripts/train-mask-probe.js)`);
  }
  const parsed = MaskProbe.safeParse(json);
  if (!parsed.success) throw new Error(`mask probe ${path}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The probe's input for one aligned face: embedding then the listed statistics. */
export async function probeFeatures(extractor: TemplateExtractor, patch: Uint8Array, stats: readonly StatName[]): Promise<Float32Array> {
  const { vector, rawNorm } = await extractor.embedAligned(patch, false);
  const s = faceStats(patch, rawNorm);
  const out = new Float32Array(vector.length + stats.length);
  out.set(vector);
  stats.forEach((name, i) => (out[vector.length + i] = s[name]));
  return out;
}

const logit = (p: number) => Math.log(p / (1 - p));

export interface MaskResult {
  value: boolean;
  /** Probability of the reported value. */
  confidence: number;
  /** p(mask), re-centred so that 0.5 is the decision threshold. */
  pMask: number;
}

export class MaskClassifier {
  private readonly offset: number;

  private constructor(
    readonly probe: MaskProbe,
    private readonly extractor: TemplateExtractor,
  ) {
    this.offset = logit(probe.threshold);
  }

  static async create(probe: MaskProbe = readProbe()): Promise<MaskClassifier> {
    return new MaskClassifier(probe, await TemplateExtractor.create({ model: 'fr_feature', flip_augmentation: false }));
  }

  /** Raw probe output (before the threshold shift) for an aligned patch. */
  async rawLogit(patch: Uint8Array): Promise<number> {
    const x = await probeFeatures(this.extractor, patch, this.probe.feature_spec.stats);
    let z = this.probe.bias;
    for (let i = 0; i < x.length; i++) z += this.probe.weights[i] * x[i];
    return z;
  }

  async classifyAligned(patch: Uint8Array): Promise<MaskResult> {
    const z = (await this.rawLogit(patch)) - this.offset;
    const pMask = 1 / (1 + Math.exp(-z));
    const value = pMask >= 0.5;
    return { value, confidence: value ? pMask : 1 - pMask, pMask };
  }

  /** One face given by its 5 alignment points (eye centres, nose tip, mouth corners; image-left first). */
  classify(img: RgbImage, five: readonly Point[]): Promise<MaskResult> {
    return this.classifyAligned(alignFace(img, five, SIZE));
  }
}
