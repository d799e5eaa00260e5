import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { recapture, RecaptureKinds, type RecaptureKind } from '../../../shared/blocks/quality/degradations.js';
import { decodeImage } from '../../../shared/image/decode.js';
import { dataRoot, readCsv } from '../../lib/datasets.js';
import { postSample, startServer } from '../../lib/server-process.js';
import { demoPhoto } from '../../lib/sample-images.js';
import type { EvalTask } from '../task.js';

/**
 * Liveness through HTTP, one server per module of the liveness service:
 * - NUAA (dev split): real webcam frames vs printed-photo attacks, as labelled;
 * - a harder, synthetic set: every NUAA real frame re-captured four ways (print, halftone, moiré,
 *   photo-with-border; shared/blocks/quality/degradations.ts), each counted as an attack, against the same
 *   real frames as bona fide. These are simulations of print artefacts, not real attacks;
 * - bona fide faces from other cameras: the 22 faces of the MIT demo photos (BPCER only).
 * APCER = attacks accepted as REAL; BPCER = bona fide not answered REAL (FAKE, NOT_ENOUGH_DATA, no face, or
 * a 400 from the quality gate); ACER = their mean. AUC and APCER at BPCER 5 % use p(live) =
 * confidence for REAL, 1 − confidence for FAKE; unjudged answers rank below every score.
 */

const MODULES = ['face-detector-liveness-estimator', 'liveness-anti-spoofing', 'quality-liveness-anti-spoofing'] as const;
type ModuleName = (typeof MODULES)[number];

/** A values file serving the liveness service with one of its modules (shared with the HTTP tests). */
export const livenessValues = (module: string) => `processing:
  services:
    face-detector-liveness-estimator:
      module: ${module}
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 80 }
        - name: liveness_2d_estimator_v3.xml
          params: {}
      additional_variables: ${module === 'quality-liveness-anti-spoofing' ? '{ quality_threshold: 30, reject_many_faces: true }' : '{}'}
`;

/** One answer for the judged face: the largest face of the image. */
interface Answer {
  outcome: 'REAL' | 'FAKE' | 'NOT_ENOUGH_DATA' | 'no face' | 'rejected';
  /** p(live), −∞ when nothing was judged. */
  score: number;
  detail?: string;
}

async function ask(url: string, bytes: Buffer): Promise<Answer> {
  const reply = await postSample(url, '/face-detector-liveness-estimator/process/sample', { $image: bytes.toString('base64') });
  if (reply.status === 400) return { outcome: 'rejected', score: -Infinity, detail: String(reply.body.detail) };
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${JSON.stringify(reply.body)}`);
  const faces = (reply.body.objects ?? []).filter((o) => o.class === 'face' && o.liveness);
  if (faces.length === 0) return { outcome: 'no face', score: -Infinity };
  const area = (o: Record<string, unknown>) => {
    const [x1, y1, x2, y2] = o.bbox as number[];
    return (x2 - x1) * (y2 - y1);
  };
  const face = faces.sort((a, b) => area(b) - area(a))[0];
  const { value, confidence } = face.liveness as { value: Answer['outcome']; confidence: number };
  return { outcome: value, score: value === 'REAL' ? confidence : value === 'FAKE' ? 1 - confidence : -Infinity };
}

/** AUC over the judged items, with unjudged attacks ranked lowest (correct) and unjudged bona fide lowest (wrong). */
function auc(bona: number[], attack: number[]): number {
  let wins = 0;
  for (const b of bona) for (const a of attack) wins += b > a ? 1 : b === a ? 0.5 : 0;
  return wins / (bona.length * attack.length);
}

interface Rates {
  apcer: number;
  bpcer: number;
  acer: number;
  auc: number;
  /** APCER at the threshold where BPCER first reaches ≤ 5 %, or null when unjudged bona fide alone exceed 5 %. */
  apcerAtBpcer5: number | null;
}

function rates(bona: Answer[], attack: Answer[]): Rates {
  const apcer = attack.filter((a) => a.outcome === 'REAL').length / attack.length;
  const bpcer = bona.filter((b) => b.outcome !== 'REAL').length / bona.length;
  const b = bona.map((x) => x.score), a = attack.map((x) => x.score);
  // Highest threshold t (accept score ≥ t) with BPCER(t) ≤ 5 %.
  const sorted = [...b].sort((x, y) => x - y);
  const allowed = Math.floor(0.05 * sorted.length);
  const t = sorted[allowed];
  const apcerAtBpcer5 = Number.isFinite(t) ? a.filter((s) => s >= t).length / a.length : null;
  return { apcer, bpcer, acer: (apcer + bpcer) / 2, auc: auc(b, a), apcerAtBpcer5 };
}

const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);

function outcomes(list: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of list) {
    const key = a.outcome === 'rejected' ? `400 ${a.detail?.startsWith('Low image quality') ? 'low quality' : a.detail}` : a.outcome;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

async function run(): Promise<string> {
  const root = join(dataRoot(), 'liveness_nuaa');
  const rows = readCsv(join(root, 'labels.csv'));
  const real = rows.filter((r) => r.label === 'real');
  const spoof = rows.filter((r) => r.label !== 'real');
  const started = Date.now();
  // The synthetic re-captures, made once (PNG: no further compression than each recipe's own).
  const harder = new Map<RecaptureKind, Buffer[]>();
  for (const kind of RecaptureKinds) harder.set(kind, []);
  for (const r of real) {
    const img = await decodeImage(readFileSync(join(root, r.file)), { maxPixels: 40_000_000 });
    for (const kind of RecaptureKinds) {
      const d = await recapture(img, kind);
      harder.get(kind)!.push(await sharp(d.data, { raw: { width: d.width, height: d.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer());
    }
  }
  const madeMs = Date.now() - started;

  const results: { module: ModuleName; nuaa: Rates; bona: Answer[]; attack: Answer[]; harder: Map<RecaptureKind, Answer[]>; demo: Answer[]; msPerImage: number }[] = [];
  for (const module of MODULES) {
    const server = await startServer({ values: livenessValues(module) });
    try {
      const t0 = Date.now();
      const bona: Answer[] = [], attack: Answer[] = [];
      for (const r of real) bona.push(await ask(server.url, readFileSync(join(root, r.file))));
      for (const r of spoof) attack.push(await ask(server.url, readFileSync(join(root, r.file))));
      const msPerImage = (Date.now() - t0) / (real.length + spoof.length);
      const byKind = new Map<RecaptureKind, Answer[]>();
      for (const [kind, images] of harder) {
        const list: Answer[] = [];
        for (const bytes of images) list.push(await ask(server.url, bytes));
        byKind.set(kind, list);
      }
      // Bona fide faces from other cameras: every face of the demo photos (the gate refuses group photos, so it is skipped there).
      const demo: Answer[] = [];
      if (module !== 'quality-liveness-anti-spoofing') {
        for (let i = 1; i <= 6; i++) {
          const reply = await postSample(server.url, '/face-detector-liveness-estimator/process/sample', { $image: demoPhoto(i).toString('base64') });
          for (const o of reply.body.objects ?? []) demo.push({ outcome: (o.liveness as { value: Answer['outcome'] }).value, score: 0 });
        }
      }
      results.push({ module, nuaa: rates(bona, attack), bona, attack, harder: byKind, demo, msPerImage });
    } finally {
      await server.stop();
    }
  }

  const lines: string[] = [];
  lines.push(
    `liveness_nuaa (dev split): ${real.length} real frames, ${spoof.length} print attacks; shipped threshold (liveness_2d_estimator_v3.xml) p(live) ≥ 0.3; capturer min_size 80. Synthetic set made in ${(madeMs / 1000).toFixed(0)} s.`,
    '',
    '| module | APCER | BPCER | ACER | AUC | APCER @ BPCER 5 % | ms / image (HTTP) | bona fide outcomes | attack outcomes |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    lines.push(`| ${r.module} | ${pct(r.nuaa.apcer)} | ${pct(r.nuaa.bpcer)} | ${pct(r.nuaa.acer)} | ${r.nuaa.auc.toFixed(4)} | ${pct(r.nuaa.apcerAtBpcer5)} | ${r.msPerImage.toFixed(0)} | ${outcomes(r.bona)} | ${outcomes(r.attack)} |`);
  }
  lines.push(
    '',
    `Harder set (synthetic, ours): the ${real.length} real frames as bona fide; attacks = the same frames re-captured (${RecaptureKinds.join(', ')}), ${real.length} each.`,
    'Per attack kind: APCER at the shipped threshold / AUC against the real frames / APCER at BPCER 5 %.',
    '',
    `| module | ${RecaptureKinds.join(' | ')} | all four: APCER | BPCER | ACER | AUC | APCER @ BPCER 5 % |`,
    `|---|${RecaptureKinds.map(() => '---|').join('')}---|---|---|---|---|`,
  );
  for (const r of results) {
    const cells = RecaptureKinds.map((k) => {
      const x = rates(r.bona, r.harder.get(k)!);
      return `${pct(x.apcer)} / ${x.auc.toFixed(3)} / ${pct(x.apcerAtBpcer5)}`;
    });
    const all = rates(r.bona, RecaptureKinds.flatMap((k) => r.harder.get(k)!));
    lines.push(`| ${r.module} | ${cells.join(' | ')} | ${pct(all.apcer)} | ${pct(all.bpcer)} | ${pct(all.acer)} | ${all.auc.toFixed(4)} | ${pct(all.apcerAtBpcer5)} |`);
  }
  lines.push('', 'Bona fide from another camera (the MIT demo photos, every detected face; the gated module refuses group photos):');
  for (const r of results) {
    if (!r.demo.length) continue;
    const real = r.demo.filter((a) => a.outcome === 'REAL').length;
    lines.push(`- ${r.module}: ${outcomes(r.demo)} (BPCER ${pct(1 - real / r.demo.length)})`);
  }
  return lines.join('\n');
}

const task: EvalTask = { name: 'liveness', dataset: 'liveness_nuaa', run };
export default task;
