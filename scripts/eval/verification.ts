import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTemplate } from '../../shared/blocks/face-template.js';
import { templateDistance } from '../../shared/blocks/matcher.js';
import { dataRoot, readCsv } from '../lib/datasets.js';
import { rocSummary } from '../lib/roc.js';
import { postSample } from '../lib/server-process.js';

export interface PairDistances {
  genuine: number[];
  impostor: number[];
  images: number;
  imagesWithFace: number;
  /** Pairs where an image had no face: scored as the worst distance (2) for genuine, best (2) does not help impostors. */
  pairsMissingFace: number;
}

const largest = (objects: Record<string, unknown>[]) =>
  objects
    .filter((o) => o.class === 'face' && typeof o.$template === 'string')
    .sort((a, b) => {
      const area = (o: Record<string, unknown>) => {
        const [x1, y1, x2, y2] = o.bbox as number[];
        return (x2 - x1) * (y2 - y1);
      };
      return area(b) - area(a);
    })[0];

/** Templates of every face_verification image through the template extractor's HTTP route, then pair distances. */
export async function verificationDistances(url: string): Promise<PairDistances> {
  const root = join(dataRoot(), 'face_verification');
  const pairs = readCsv(join(root, 'pairs.csv'));
  const files = [...new Set(pairs.flatMap((p) => [p.file1, p.file2]))];
  const templates = new Map<string, Float32Array>();
  for (const file of files) {
    const bytes = readFileSync(join(root, file));
    const reply = await postSample(url, '/face-detector-template-extractor/process/sample', { $image: bytes.toString('base64') });
    if (reply.status !== 200) throw new Error(`${file}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    const face = largest(reply.body.objects ?? []);
    if (face) templates.set(file, decodeTemplate(face.$template as string, file).vector);
  }
  const out: PairDistances = { genuine: [], impostor: [], images: files.length, imagesWithFace: templates.size, pairsMissingFace: 0 };
  for (const p of pairs) {
    const a = templates.get(p.file1), b = templates.get(p.file2);
    const same = p['same(1/0)'] === '1' || p.same === '1';
    if (!a || !b) out.pairsMissingFace++;
    const d = a && b ? templateDistance(a, b) : 2;
    (same ? out.genuine : out.impostor).push(d);
  }
  return out;
}

export function verificationReport(d: PairDistances): string {
  const s = rocSummary(d.genuine, d.impostor);
  const at1 = s.tarAtFar(0.01), at01 = s.tarAtFar(0.001);
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  return [
    `face_verification (dev split): ${d.images} images, ${d.genuine.length} genuine / ${d.impostor.length} impostor pairs`,
    `| metric | value |`,
    `|---|---|`,
    `| face detected | ${d.imagesWithFace}/${d.images} (${pct(d.imagesWithFace / d.images)}) |`,
    `| pairs with an image without a face | ${d.pairsMissingFace} |`,
    `| ROC AUC | ${s.auc.toFixed(5)} |`,
    `| EER | ${pct(s.eer)} at distance ${s.eerThreshold.toFixed(3)} |`,
    `| TAR @ FAR 1 % | ${pct(at1.tar)} (distance ≤ ${at1.threshold.toFixed(3)}) |`,
    `| TAR @ FAR 0.1 % | ${pct(at01.tar)} (distance ≤ ${at01.threshold.toFixed(3)}) |`,
  ].join('\n');
}
