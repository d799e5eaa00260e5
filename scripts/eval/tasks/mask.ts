import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, hasDataset, readCsv } from '../../lib/datasets.js';
import { postImage, postSample, startServer, type SampleReply } from '../../lib/server-process.js';
import type { EvalTask } from '../task.js';

/**
 * `npm run eval -- mask`: the mask-estimator through HTTP on
 * - mask_classification (face crops and photos, with_mask / without_mask): `process/sample` without objects
 *   (the whole image is the face: the original's flow) and `process/image` (faces detected first; the
 *   largest face answers, an image without a detected face counts as wrong);
 * - the crowd photos of face_detection_masks: every annotated box sent as a face object (with_mask vs
 *   without_mask; mask_weared_incorrect reported apart).
 */

export const MASK_VALUES = `processing:
  services:
    mask-estimator:
      module: mask-estimator
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 20, angles: geometry }
`;

interface Confusion {
  tp: number;
  fn: number;
  fp: number;
  tn: number;
  /** Images or faces without an answer (no face found), by true class. */
  missingPos: number;
  missingNeg: number;
}

const emptyConfusion = (): Confusion => ({ tp: 0, fn: 0, fp: 0, tn: 0, missingPos: 0, missingNeg: 0 });

function count(c: Confusion, truth: boolean, said: boolean | null): void {
  if (said === null) {
    if (truth) c.missingPos++;
    else c.missingNeg++;
  } else if (truth) {
    if (said) c.tp++;
    else c.fn++;
  } else if (said) c.fp++;
  else c.tn++;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : 'n/a');

function summary(name: string, c: Confusion): string {
  const pos = c.tp + c.fn + c.missingPos, neg = c.tn + c.fp + c.missingNeg;
  const answered = c.tp + c.fn + c.fp + c.tn;
  const balanced = ((pos ? c.tp / pos : 0) + (neg ? c.tn / neg : 0)) / 2;
  return `| ${name} | ${pos + neg} | ${pct(c.tp + c.tn, pos + neg)} | ${(100 * balanced).toFixed(1)} % | ${pct(c.tp + c.tn, answered)} | ${c.tp} | ${c.fn} | ${c.fp} | ${c.tn} | ${c.missingPos + c.missingNeg} |`;
}

const HEADER = [
  '| set / route | n | accuracy | balanced acc. | acc. where answered | mask→mask | mask→no | no→mask | no→no | no face |',
  '|---|---|---|---|---|---|---|---|---|---|',
];

type Obj = Record<string, unknown>;
const maskOf = (o: Obj | undefined): boolean | null => {
  const m = o?.has_medical_mask as { value?: unknown } | undefined;
  return typeof m?.value === 'boolean' ? m.value : null;
};

function check(reply: SampleReply, what: string): Obj[] {
  if (reply.status !== 200) throw new Error(`${what}: HTTP ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
  return reply.body.objects ?? [];
}

/** Server time without decoding, from Server-Timing (what one request costs the service itself). */
function serverMs(reply: SampleReply): number {
  const h = reply.headers.get('server-timing') ?? '';
  const total = Number(/total;dur=([\d.]+)/.exec(h)?.[1] ?? NaN), decode = Number(/decode;dur=([\d.]+)/.exec(h)?.[1] ?? 0);
  return total - decode;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

interface CrowdFace {
  bbox_xyxy: [number, number, number, number];
  label: 'with_mask' | 'without_mask' | 'mask_weared_incorrect';
}

async function evalMaskClassification(url: string): Promise<string[]> {
  const root = join(dataRoot(), 'mask_classification');
  const whole = emptyConfusion(), detected = emptyConfusion();
  const ms: number[] = [];
  for (const row of readCsv(join(root, 'labels.csv'))) {
    const bytes = readFileSync(join(root, row.file));
    const truth = row.label === 'with_mask';
    const sample = await postSample(url, '/mask-estimator/process/sample', { $image: bytes.toString('base64') });
    count(whole, truth, maskOf(check(sample, row.file)[0]));
    ms.push(serverMs(sample));
    const image = await postImage(url, '/mask-estimator/process/image', bytes, row.file.split('/').pop());
    const faces = check(image, row.file).filter((o) => o.class === 'face');
    const area = (o: Obj) => {
      const [x1, y1, x2, y2] = o.bbox as number[];
      return (x2 - x1) * (y2 - y1);
    };
    count(detected, truth, faces.length ? maskOf(faces.sort((a, b) => area(b) - area(a))[0]) : null);
  }
  return [
    `mask_classification (dev split), ${whole.tp + whole.fn + whole.missingPos} with_mask / ${whole.tn + whole.fp + whole.missingNeg} without_mask:`,
    '',
    ...HEADER,
    summary('process/sample, no objects (whole image = face)', whole),
    summary('process/image (detect first, largest face)', detected),
    '',
    `Median server time per process/sample request without decoding (one face): ${median(ms).toFixed(1)} ms.`,
  ];
}

async function evalCrowd(url: string): Promise<string[]> {
  const root = join(dataRoot(), 'face_detection_masks');
  const images = JSON.parse(readFileSync(join(root, 'annotations.json'), 'utf8')) as { file: string; width: number; height: number; faces: CrowdFace[] }[];
  const all = emptyConfusion();
  const bySize = new Map<string, Confusion>();
  let incorrect = 0, incorrectSaidMask = 0, skipped = 0, faces = 0;
  const perFaceMs: number[] = [];
  const bucket = (h: number) => (h < 16 ? '< 16 px' : h < 32 ? '16–31 px' : h < 64 ? '32–63 px' : '≥ 64 px');
  for (const img of images) {
    const objects: Obj[] = [];
    const labels: CrowdFace[] = [];
    for (const f of img.faces) {
      const [x1, y1, x2, y2] = f.bbox_xyxy;
      const b = [Math.max(0, x1) / img.width, Math.max(0, y1) / img.height, Math.min(img.width, x2) / img.width, Math.min(img.height, y2) / img.height];
      if (!(b[2] > b[0] && b[3] > b[1])) {
        skipped++;
        continue;
      }
      objects.push({ id: objects.length, class: 'face', bbox: b });
      labels.push(f);
    }
    if (objects.length === 0) continue;
    const bytes = readFileSync(join(root, img.file));
    const reply = await postSample(url, '/mask-estimator/process/sample', { $image: bytes.toString('base64'), objects });
    const out = check(reply, img.file);
    perFaceMs.push(serverMs(reply) / objects.length);
    labels.forEach((f, i) => {
      const said = maskOf(out.find((o) => o.id === i));
      faces++;
      if (f.label === 'mask_weared_incorrect') {
        incorrect++;
        if (said) incorrectSaidMask++;
        return;
      }
      const truth = f.label === 'with_mask';
      count(all, truth, said);
      const key = bucket(f.bbox_xyxy[3] - f.bbox_xyxy[1]);
      if (!bySize.has(key)) bySize.set(key, emptyConfusion());
      count(bySize.get(key)!, truth, said);
    });
  }
  return [
    `face_detection_masks (dev split): ${images.length} crowd photos, ${faces} annotated faces sent as face objects (bbox only)` +
      (skipped ? `, ${skipped} degenerate boxes skipped` : '') + ':',
    '',
    ...HEADER,
    summary('with_mask vs without_mask, all sizes', all),
    ...['< 16 px', '16–31 px', '32–63 px', '≥ 64 px'].filter((k) => bySize.has(k)).map((k) => summary(`  box height ${k}`, bySize.get(k)!)),
    '',
    `mask_weared_incorrect (not scored): ${incorrectSaidMask}/${incorrect} judged "mask".`,
    `Median server time per given face without decoding (whole request ÷ faces): ${median(perFaceMs).toFixed(1)} ms.`,
  ];
}

const task: EvalTask = {
  name: 'mask',
  dataset: 'mask_classification',
  async run() {
    const server = await startServer({ values: MASK_VALUES });
    try {
      const lines = await evalMaskClassification(server.url);
      if (hasDataset('face_detection_masks')) lines.push('', ...(await evalCrowd(server.url)));
      return lines.join('\n');
    } finally {
      await server.stop();
    }
  },
};
export default task;
