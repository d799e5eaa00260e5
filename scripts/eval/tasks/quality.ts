import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FaceCapturer, type CapturedFace } from '../../../shared/blocks/face-capturer.js';
import { decodeTemplate } from '../../../shared/blocks/face-template.js';
import * as Dg from '../../../shared/blocks/quality/degradations.js';
import { resolveConfigObject, type CapturerParams } from '../../../shared/config/config-object.js';
import { fromNormalised, iou, type Box } from '../../../shared/geometry/box.js';
import { decodeImage } from '../../../shared/image/decode.js';
import type { RgbImage } from '../../../shared/image/rgb-image.js';
import { dataRoot, readCsv } from '../../lib/datasets.js';
import { postImage, postSample, startServer } from '../../lib/server-process.js';
import type { EvalTask } from '../task.js';

/**
 * Quality sub-scores under controlled degradations of the face_verification photos, through HTTP: the
 * quality estimator judges each degraded photo (the clean face object is sent where the geometry is
 * unchanged; after rotations and crops the face is detected again), and the template extractor gives the
 * cosine between the degraded face's template and the clean one's: the recognizer's own verdict on the
 * damage. The degradations are made in this process (shared/blocks/quality/degradations.ts).
 */

const VALUES = `processing:
  services:
    quality-assessment-estimator:
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 20 }
    face-detector-template-extractor:
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 20 }
        - name: method12v50_recognizer.xml
          params: {}
`;

type Obj = Record<string, unknown>;
type Qaa = Record<string, number | boolean>;

interface Degradation {
  name: string;
  /** Degraded picture, and where the face went (null: same place, send the clean face object). */
  make(img: RgbImage, face: CapturedFace): Promise<{ img: RgbImage; box: Box | null }>;
}

const same = async (img: RgbImage | Promise<RgbImage>) => ({ img: await img, box: null });

function rotatedBox(box: Box, w: number, h: number, out: RgbImage, degrees: number): Box {
  // Where the box centre lands after sharp's rotate-and-expand about the image centre.
  const a = (degrees * Math.PI) / 180;
  const cx = (box.x1 + box.x2) / 2 - w / 2, cy = (box.y1 + box.y2) / 2 - h / 2;
  const x = cx * Math.cos(a) - cy * Math.sin(a) + out.width / 2, y = cx * Math.sin(a) + cy * Math.cos(a) + out.height / 2;
  const s = (box.x2 - box.x1) / 2;
  return { x1: x - s, y1: y - s, x2: x + s, y2: y + s };
}

const DEGRADATIONS: Degradation[] = [
  { name: 'clean', make: async (img) => same(img) },
  ...[1, 2, 4, 8].map((s) => ({ name: `blur σ ${s}`, make: async (img: RgbImage) => same(Dg.gaussianBlur(img, s)) })),
  ...[0.5, 0.25].map((g) => ({ name: `darken ×${g}`, make: async (img: RgbImage) => same(Dg.exposure(img, g)) })),
  ...[2, 3].map((g) => ({ name: `over-expose ×${g}`, make: async (img: RgbImage) => same(Dg.exposure(img, g)) })),
  ...[5, 15, 30].map((s) => ({ name: `noise σ ${s}`, make: async (img: RgbImage) => same(Dg.gaussianNoise(img, s)) })),
  ...[10, 20, 30, 40].map((d) => ({
    name: `rotate ${d}°`,
    make: async (img: RgbImage, f: CapturedFace) => {
      const out = await Dg.rotate(img, d);
      return { img: out, box: rotatedBox(f.box, img.width, img.height, out, d) };
    },
  })),
  { name: 'synthetic mask', make: async (img, f) => same(Dg.syntheticMask(img, f.landmarks)) },
  ...[0.15, 0.3, 0.5].map((c) => ({
    name: `cut ${Math.round(c * 100)} % off`,
    make: async (img: RgbImage, f: CapturedFace) => {
      const out = await Dg.cutFace(img, f.box, c, 'left');
      const dx = img.width - out.width;
      return { img: out, box: { ...f.box, x1: Math.max(0, f.box.x1 - dx), x2: f.box.x2 - dx } };
    },
  })),
  ...[90, 50, 30, 10].map((q) => ({ name: `JPEG q${q}`, make: async (img: RgbImage) => same(Dg.jpeg(img, q)) })),
  { name: 'eyes painted shut', make: async (img, f) => same(Dg.closeEyes(img, f.landmarks)) },
  ...[0.25, 0.4].map((a) => ({ name: `text overlay α ${a}`, make: async (img: RgbImage, f: CapturedFace) => same(Dg.textWatermark(img, f.box, a)) })),
  { name: 'cluttered background', make: async (img, f) => same(Dg.clutterBackground(img, f.box)) },
];

const COLUMNS = [
  'totalScore', 'sharpnessScore', 'illuminationScore', 'dynamicRangeScore', 'noiseScore', 'leftEyeOpennessScore', 'rightEyeOpennessScore',
  'maxRotationDeviation', 'notMaskedScore', 'neutralEmotionScore', 'eyesDistance', 'marginOuterDeviation', 'marginInnerDeviation',
  'watermarkScore', 'backgroundUniformityScore',
] as const;
const SHORT: Record<(typeof COLUMNS)[number], string> = {
  totalScore: 'total', sharpnessScore: 'sharp', illuminationScore: 'illum', dynamicRangeScore: 'range', noiseScore: 'noise',
  leftEyeOpennessScore: 'eyeL', rightEyeOpennessScore: 'eyeR', maxRotationDeviation: 'rot°', notMaskedScore: 'notMasked',
  neutralEmotionScore: 'neutral', eyesDistance: 'eyes px', marginOuterDeviation: 'mOuter', marginInnerDeviation: 'mInner',
  watermarkScore: 'wmark', backgroundUniformityScore: 'bg',
};

const FLAGS = ['isSharp', 'isEvenlyIlluminated', 'noFlare', 'isNotNoisy', 'isRotationAcceptable', 'notMasked', 'isMarginsAcceptable', 'hasWatermark', 'isBackgroundUniform'];

const png = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();

const area = (o: Obj) => {
  const [x1, y1, x2, y2] = o.bbox as number[];
  return (x2 - x1) * (y2 - y1);
};

/** The face object nearest to `box` (pixels), or the largest when no box is known. */
function pick(objects: Obj[], img: RgbImage, box: Box | null): Obj | undefined {
  const faces = objects.filter((o) => o.class === 'face' && o.bbox);
  if (!box) return faces.sort((a, b) => area(b) - area(a))[0];
  const scored = faces.map((o) => ({ o, v: iou(fromNormalised(o.bbox as number[], img.width, img.height), box) })).sort((a, b) => b.v - a.v);
  return scored[0] && scored[0].v > 0.2 ? scored[0].o : undefined;
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const median = (v: number[]) => {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Spearman rank correlation. */
function spearman(x: number[], y: number[]): number {
  const rank = (v: number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x), ry = rank(y);
  const mx = median(rx), my = median(ry);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ** 2; syy += (ry[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

async function run(): Promise<string> {
  const root = join(dataRoot(), 'face_verification');
  const files = readCsv(join(root, 'identities.csv')).map((r) => r.file);
  const capturer = await FaceCapturer.create(resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20 }, 'eval').params as CapturerParams);
  // Noisy photos do not compress: allow PNG bodies of up to 20 MB.
  const server = await startServer({ values: VALUES, env: { MAX_BODY_SIZE: '20' } });
  const rows = new Map<string, { qaa: Qaa[]; cos: number[]; lost: number; flags: Map<string, number> }>();
  for (const d of DEGRADATIONS) rows.set(d.name, { qaa: [], cos: [], lost: 0, flags: new Map() });
  const pairs: { total: number; cos: number; totalDrop: number; cosDrop: number }[] = [];
  let faces = 0;
  try {
    for (const file of files) {
      const img = await decodeImage(readFileSync(join(root, file)), { maxPixels: 40_000_000 });
      // The clean face as this process sees it (68 landmarks for the mask polygon) …
      const face = (await capturer.capture(img)).sort((a, b) => b.box.y2 - b.box.y1 - (a.box.y2 - a.box.y1))[0];
      if (!face) continue;
      faces++;
      // … and as the service reports it: the object sent back for same-geometry degradations, and the template.
      const cleanReply = await postSample(server.url, '/face-detector-template-extractor/process/sample', { $image: (await png(img)).toString('base64') });
      const cleanObj = pick(cleanReply.body.objects ?? [], img, face.box);
      if (!cleanObj) continue;
      const cleanTemplate = decodeTemplate(cleanObj.$template as string, file).vector;
      const { $template: _t, template_size: _s, ...faceObject } = cleanObj;
      let cleanTotal = NaN;
      for (const d of DEGRADATIONS) {
        const row = rows.get(d.name)!;
        const out = await d.make(img, face);
        const bytes = await png(out.img);
        const $image = bytes.toString('base64');
        const qObj = out.box
          ? pick((await postImage(server.url, '/quality-assessment-estimator/process/image', bytes, 'face.png')).body.objects ?? [], out.img, out.box)
          : ((await postSample(server.url, '/quality-assessment-estimator/process/sample', { $image, objects: [faceObject] })).body.objects ?? [])[0];
        const t = pick((await postSample(server.url, '/face-detector-template-extractor/process/sample', { $image })).body.objects ?? [], out.img, out.box ?? face.box);
        const cos = t ? cosine(cleanTemplate, decodeTemplate(t.$template as string, file).vector) : 0;
        if (!qObj || !(qObj.quality as Obj | undefined)) {
          row.lost++;
          continue;
        }
        const qaa = (qObj.quality as { qaa: Qaa }).qaa;
        row.qaa.push(qaa);
        row.cos.push(cos);
        for (const flag of FLAGS) {
          if (qaa[flag] === true) row.flags.set(flag, (row.flags.get(flag) ?? 0) + 1);
        }
        if (d.name === 'clean') cleanTotal = qaa.totalScore as number;
        else pairs.push({ total: qaa.totalScore as number, cos, totalDrop: cleanTotal - (qaa.totalScore as number), cosDrop: 1 - cos });
      }
    }
  } finally {
    await server.stop();
  }
  const lines = [
    `face_verification (dev split): ${faces} photos with a face; medians per degradation (quality through quality-assessment-estimator, cosine through face-detector-template-extractor, both over HTTP).`,
    `Rotations and cuts re-detect the face; "lost" = no face found where it should be.`,
    '',
    `| degradation | n | lost | ${COLUMNS.map((c) => SHORT[c]).join(' | ')} | cos to clean | isSharp | isEvenlyIllum. | noFlare | isNotNoisy | rot. OK | notMasked | margins OK | hasWatermark | bg uniform |`,
    `|---|---|---|${COLUMNS.map(() => '---|').join('')}---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const d of DEGRADATIONS) {
    const r = rows.get(d.name)!;
    const share = (flag: string) => `${Math.round((100 * (r.flags.get(flag) ?? 0)) / Math.max(1, r.qaa.length))} %`;
    lines.push(
      `| ${d.name} | ${r.qaa.length} | ${r.lost} | ${COLUMNS.map((c) => median(r.qaa.map((q) => q[c] as number)).toFixed(0)).join(' | ')} | ${median(r.cos).toFixed(3)} | ` +
        FLAGS.map(share).join(' | ') + ' |',
    );
  }
  const both = pairs.filter((p) => p.cosDrop > 0.05);
  lines.push(
    '',
    `totalScore vs cosine to the clean template over all ${pairs.length} degraded faces: Spearman ρ = ${spearman(pairs.map((p) => p.total), pairs.map((p) => p.cos)).toFixed(3)}.`,
    `Of the ${both.length} degraded faces whose cosine fell by more than 0.05, totalScore fell too for ${both.filter((p) => p.totalDrop > 0).length} (${((100 * both.filter((p) => p.totalDrop > 0).length) / Math.max(1, both.length)).toFixed(1)} %).`,
    `Faces with cosine < 0.4 (unlikely to verify at the ≈ 0.41 threshold): median totalScore ${median(pairs.filter((p) => p.cos < 0.4).map((p) => p.total)).toFixed(0)} (n = ${pairs.filter((p) => p.cos < 0.4).length}); cosine ≥ 0.8: ${median(pairs.filter((p) => p.cos >= 0.8).map((p) => p.total)).toFixed(0)} (n = ${pairs.filter((p) => p.cos >= 0.8).length}).`,
  );
  return lines.join('\n');
}

const task: EvalTask = { name: 'quality', dataset: 'face_verification', run };
export default task;
