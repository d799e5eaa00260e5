import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCounts, matchBoxes, type MatchCounts, type Xyxy } from '../lib/box-matching.js';
import { dataRoot } from '../lib/datasets.js';
import { postSample, startServer } from '../lib/server-process.js';

interface Annotation {
  file: string;
  width: number;
  height: number;
  faces: { bbox_xyxy: Xyxy; label: string }[];
}

export interface DetectionRow {
  level: number;
  counts: MatchCounts;
  /** By ground-truth face height: [<16, 16–32, 32–64, ≥64] px → [found, total]. */
  bySize: [number, number][];
  msPerImage: number;
}

const SIZE_EDGES = [16, 32, 64];
const sizeBin = (h: number) => SIZE_EDGES.filter((e) => h >= e).length;

/** Crowd-set detection (face_detection_masks) through the fitter's HTTP route, one server per precision level. */
export async function evalDetection(levels = [1, 2, 3], scoreThreshold?: number): Promise<DetectionRow[]> {
  const root = join(dataRoot(), 'face_detection_masks');
  const annotations = JSON.parse(readFileSync(join(root, 'annotations.json'), 'utf8')) as Annotation[];
  const rows: DetectionRow[] = [];
  for (const level of levels) {
    const params = `{ min_size: 1, precision_level: ${level}${scoreThreshold ? `, score_threshold: ${scoreThreshold}` : ''} }`;
    const server = await startServer({
      values: `processing:\n  services:\n    face-detector-face-fitter:\n      configs:\n        - name: common_capturer_uld_fda.xml\n          params: ${params}\n`,
    });
    let counts: MatchCounts = { truths: 0, predictions: 0, matched: 0 };
    const bySize: [number, number][] = SIZE_EDGES.concat([Infinity]).map(() => [0, 0]);
    const started = Date.now();
    try {
      for (const a of annotations) {
        const reply = await postSample(server.url, '/face-detector-face-fitter/process/sample', { $image: readFileSync(join(root, a.file)).toString('base64') });
        if (reply.status !== 200) throw new Error(`${a.file}: HTTP ${reply.status}`);
        const predictions = (reply.body.objects ?? []).map((o) => {
          const [x1, y1, x2, y2] = o.bbox as number[];
          return { box: [x1 * a.width, y1 * a.height, x2 * a.width, y2 * a.height] as Xyxy, score: o.confidence as number };
        });
        const truths = a.faces.map((f) => f.bbox_xyxy);
        counts = addCounts(counts, matchBoxes(predictions, truths));
        // Recall by size: which truths have a prediction at IoU ≥ 0.5 (one-to-one per image is approximated per truth).
        for (const t of truths) {
          const bin = sizeBin(t[3] - t[1]);
          bySize[bin][1]++;
          if (matchBoxes(predictions, [t]).matched > 0) bySize[bin][0]++;
        }
      }
    } finally {
      await server.stop();
    }
    rows.push({ level, counts, bySize, msPerImage: (Date.now() - started) / annotations.length });
  }
  return rows;
}

export function detectionReport(rows: DetectionRow[]): string {
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');
  const lines = [
    `face_detection_masks (dev split, IoU 0.5, min_size 1): recall / precision per precision_level`,
    `| precision_level | recall | precision | faces <16 px | 16–32 px | 32–64 px | ≥64 px | ms / image (HTTP, incl. fitting) |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.level} | ${pct(r.counts.matched, r.counts.truths)} | ${pct(r.counts.matched, r.counts.predictions)} | ${r.bySize.map(([f, t]) => pct(f, t)).join(' | ')} | ${r.msPerImage.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}
