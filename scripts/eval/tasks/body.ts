import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCounts, matchBoxes, type MatchCounts, type Xyxy } from '../../lib/box-matching.js';
import { dataRoot } from '../../lib/datasets.js';
import { postSample, startServer } from '../../lib/server-process.js';
import type { EvalTask } from '../task.js';

interface Annotation {
  file: string;
  kind: 'scene' | 'single_person_crop';
  width: number;
  height: number;
  persons: { bbox_xywh: [number, number, number, number] }[];
}

interface Prediction {
  box: Xyxy;
  score: number;
}

/** Client-side score thresholds: the server runs at LOW and every row below re-thresholds its answer. */
export const BODY_THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];
const LOW = 0.05;
const KINDS = ['scene', 'single_person_crop'] as const;

export interface BodyEvalConfig {
  model: 'centernet' | 'nanodet';
  nms: number;
}

export interface BodyEvalRow extends BodyEvalConfig {
  /** Per kind, per threshold in BODY_THRESHOLDS. */
  counts: Record<(typeof KINDS)[number], MatchCounts[]>;
  /** Scenes only (COCO images, ≈ 640 × 480), medians in ms: wall time of one request, and the server's own total and inference time. */
  sceneMs: { wall: number; server: number; inference: number };
}

const empty = (): MatchCounts => ({ truths: 0, predictions: 0, matched: 0 });
export const bodyValues = (model: string, scoreThreshold: number, nms = 0.5) =>
  `processing:\n  services:\n    body-detector:\n      additional_variables: { model: ${model}, score_threshold: ${scoreThreshold}, nms_iou_threshold: ${nms} }\n`;

export function readBodyAnnotations(): { root: string; annotations: Annotation[] } {
  const root = join(dataRoot(), 'person_detection_coco');
  return { root, annotations: JSON.parse(readFileSync(join(root, 'annotations.json'), 'utf8')) as Annotation[] };
}

export const truthBoxes = (a: Annotation): Xyxy[] => a.persons.map(({ bbox_xywh: [x, y, w, h] }) => [x, y, x + w, y + h]);

/** The body objects of a reply, back in pixels. */
export function bodyPredictions(objects: Record<string, unknown>[], width: number, height: number): Prediction[] {
  return objects
    .filter((o) => o.class === 'body')
    .map((o) => {
      const [x1, y1, x2, y2] = o.bbox as number[];
      return { box: [x1 * width, y1 * height, x2 * width, y2 * height] as Xyxy, score: o.confidence as number };
    });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const serverTiming = (header: string, name: string) => Number(new RegExp(`${name};dur=([0-9.]+)`).exec(header)?.[1] ?? NaN);

/** person_detection_coco through the body-detector's HTTP route, one server per configuration. */
export async function evalBody(configs: BodyEvalConfig[]): Promise<BodyEvalRow[]> {
  const { root, annotations } = readBodyAnnotations();
  const rows: BodyEvalRow[] = [];
  for (const config of configs) {
    const server = await startServer({ values: bodyValues(config.model, LOW, config.nms) });
    const counts = { scene: BODY_THRESHOLDS.map(empty), single_person_crop: BODY_THRESHOLDS.map(empty) };
    const times = { wall: [] as number[], server: [] as number[], inference: [] as number[] };
    try {
      for (const a of annotations) {
        const started = performance.now();
        const reply = await postSample(server.url, '/body-detector/process/sample', { $image: readFileSync(join(root, a.file)).toString('base64') });
        if (a.kind === 'scene') {
          times.wall.push(performance.now() - started);
          const timing = reply.headers.get('server-timing') ?? '';
          times.server.push(serverTiming(timing, 'total'));
          times.inference.push(serverTiming(timing, 'inference'));
        }
        if (reply.status !== 200) throw new Error(`${a.file}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
        const predictions = bodyPredictions(reply.body.objects ?? [], a.width, a.height);
        const truths = truthBoxes(a);
        BODY_THRESHOLDS.forEach((t, i) => {
          counts[a.kind][i] = addCounts(counts[a.kind][i], matchBoxes(predictions.filter((p) => p.score >= t), truths));
        });
      }
    } finally {
      await server.stop();
    }
    rows.push({ ...config, counts, sceneMs: { wall: median(times.wall), server: median(times.server), inference: median(times.inference) } });
  }
  return rows;
}

export function bodyReport(rows: BodyEvalRow[]): string {
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');
  const cell = (c: MatchCounts) => `${pct(c.matched, c.truths)} / ${pct(c.matched, c.predictions)}`;
  const lines: string[] = [];
  for (const kind of KINDS) {
    const first = rows[0]?.counts[kind][0];
    lines.push(
      '',
      `person_detection_coco, ${kind === 'scene' ? 'scenes' : 'single-person crops'} (dev split, ${first?.truths ?? 0} person boxes, IoU 0.5): recall / precision per score threshold`,
      `| model | NMS IoU | ${BODY_THRESHOLDS.join(' | ')} |${kind === 'scene' ? ' ms / request: wall, server, inference (medians) |' : ''}`,
      `|---|---|${BODY_THRESHOLDS.map(() => '---|').join('')}${kind === 'scene' ? '---|' : ''}`,
    );
    for (const r of rows) {
      lines.push(`| ${r.model} | ${r.nms} | ${r.counts[kind].map(cell).join(' | ')} |${kind === 'scene' ? ` ${r.sceneMs.wall.toFixed(0)}, ${r.sceneMs.server.toFixed(0)}, ${r.sceneMs.inference.toFixed(0)} |` : ''}`);
    }
  }
  return lines.join('\n').trim();
}

const task: EvalTask = {
  name: 'body',
  dataset: 'person_detection_coco',
  run: async () =>
    bodyReport(
      await evalBody([
        { model: 'centernet', nms: 0.5 },
        { model: 'nanodet', nms: 0.5 },
        { model: 'nanodet', nms: 0.4 },
      ]),
    ),
};
export default task;
