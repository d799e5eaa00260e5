/**
 * Age, gender and emotion accuracy on the labelled dev data, measured through the services' HTTP routes
 * (the eval tasks and the CI floor test share this).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmotionLabels } from '../../shared/contract/objects.js';
import { dataRoot, readCsv } from '../lib/datasets.js';
import { postImage, postSample, startServer, type SampleReply } from '../lib/server-process.js';
import type { EvalTask } from './task.js';

export type EmotionModelChoice = 'fr_expression' | 'emotion';

/** Values YAML for an all-in-one server with the three attribute services (and the fitter, for tests). */
export function attributesValues(options: { emotionModel?: EmotionModelChoice; minSize?: number } = {}): string {
  const capturer = `      configs:\n        - name: common_capturer_uld_fda.xml\n          params: { min_size: ${options.minSize ?? 20} }\n`;
  const block = (service: string, variables = '{}') => `    ${service}:\n      module: ${service}\n      replicas: 1\n${capturer}      additional_variables: ${variables}\n`;
  return [
    'image: image-api:test',
    'namespace: image-api',
    'processing:',
    '  services:',
    block('face-detector-face-fitter').trimEnd(),
    block('age-estimator').trimEnd(),
    block('gender-estimator').trimEnd(),
    block('emotion-estimator', `{ model: ${options.emotionModel ?? 'fr_expression'} }`).trimEnd(),
    '',
  ].join('\n');
}

/** One entry (`total`, `inference`, `decode`) of the reply's Server-Timing header, in ms. */
export function serverMs(reply: SampleReply, entry = 'total'): number {
  const m = new RegExp(`${entry};dur=([\\d.]+)`).exec(reply.headers.get('server-timing') ?? '');
  return m ? Number(m[1]) : NaN;
}

/** Deterministic subsample: every k-th row, so that all strata of a sorted label file stay represented. */
export function everyNth<T>(rows: T[], keep: number | undefined): T[] {
  if (!keep || keep >= rows.length) return rows;
  const step = rows.length / keep;
  return Array.from({ length: keep }, (_, i) => rows[Math.floor(i * step)]);
}

const median = (v: number[]) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)} %` : 'n/a');
const bboxArea = (o: Record<string, unknown>) => {
  const b = o.bbox as number[] | undefined;
  return b ? (b[2] - b[0]) * (b[3] - b[1]) : 0;
};

/**
 * How a face reaches the service: `whole` sends the chip with no objects (the original's flow: the whole
 * image is the face); `detect` uploads it to process/image, which detects faces first (largest kept).
 */
export type Flow = 'whole' | 'detect';

async function ask(url: string, service: string, flow: Flow, bytes: Buffer): Promise<{ face: Record<string, unknown> | undefined; ms: number; inferenceMs: number }> {
  const path = `/${service}/process/${flow === 'whole' ? 'sample' : 'image'}`;
  const reply = flow === 'whole' ? await postSample(url, path, { $image: bytes.toString('base64') }) : await postImage(url, path, bytes);
  if (reply.status !== 200) throw new Error(`${path}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
  const faces = (reply.body.objects ?? []).filter((o) => o.class === 'face').sort((a, b) => bboxArea(b) - bboxArea(a));
  return { face: faces[0], ms: serverMs(reply), inferenceMs: serverMs(reply, 'inference') };
}

// ---------------------------------------------------------------- age and gender (UTKFace)

export interface AgeGenderItem {
  file: string;
  age: number;
  male: boolean;
  /** Absent when the service found no face (detect flow) or was not asked. */
  predAge?: number;
  predMale?: boolean;
  found: boolean;
  ms: number[];
}

export async function evalAgeGender(url: string, options: { flow: Flow; services: ('age' | 'gender')[]; keep?: number }): Promise<AgeGenderItem[]> {
  const root = join(dataRoot(), 'age_gender_utkface');
  const rows = everyNth(readCsv(join(root, 'labels.csv')), options.keep);
  const out: AgeGenderItem[] = [];
  for (const row of rows) {
    const bytes = readFileSync(join(root, row.file));
    const item: AgeGenderItem = { file: row.file, age: Number(row.age), male: row.gender === 'male', found: true, ms: [] };
    for (const s of options.services) {
      const { face, ms } = await ask(url, `${s}-estimator`, options.flow, bytes);
      item.ms.push(ms);
      if (!face) {
        item.found = false;
        continue;
      }
      if (s === 'age') item.predAge = Number(face.age);
      else item.predMale = face.gender === 'MALE';
    }
    out.push(item);
  }
  return out;
}

export const AGE_BINS: readonly [string, number, number][] = [
  ['0–2', 0, 2], ['3–9', 3, 9], ['10–19', 10, 19], ['20–29', 20, 29], ['30–39', 30, 39],
  ['40–49', 40, 49], ['50–59', 50, 59], ['60–69', 60, 69], ['70+', 70, Infinity],
];

export interface AgeSummary {
  n: number;
  found: number;
  mae: number;
  /** Mean signed error (prediction − label). */
  bias: number;
  bins: { bin: string; n: number; mae: number; bias: number }[];
  msMedian: number;
}

export function ageSummary(items: AgeGenderItem[]): AgeSummary {
  const scored = items.filter((i) => i.predAge !== undefined && Number.isFinite(i.predAge));
  const stats = (s: AgeGenderItem[]) => ({
    n: s.length,
    mae: s.reduce((t, i) => t + Math.abs(i.predAge! - i.age), 0) / s.length,
    bias: s.reduce((t, i) => t + (i.predAge! - i.age), 0) / s.length,
  });
  return {
    ...stats(scored),
    n: items.length,
    found: scored.length,
    bins: AGE_BINS.map(([bin, lo, hi]) => ({ bin, ...stats(scored.filter((i) => i.age >= lo && i.age <= hi)) })),
    msMedian: median(items.flatMap((i) => i.ms)),
  };
}

export function ageReport(flow: string, s: AgeSummary): string {
  return [
    `**${flow}**: ${s.found}/${s.n} faces answered, age MAE **${s.mae.toFixed(2)}** years (mean signed error ${s.bias.toFixed(2)}), median server time ${s.msMedian.toFixed(1)} ms per request`,
    '',
    '| age bin | n | MAE | mean signed error |',
    '|---|---|---|---|',
    ...s.bins.map((b) => `| ${b.bin} | ${b.n} | ${b.mae.toFixed(2)} | ${b.bias.toFixed(2)} |`),
  ].join('\n');
}

export interface GenderSummary {
  n: number;
  found: number;
  accuracy: number;
  adults: { n: number; accuracy: number };
  children: { n: number; accuracy: number };
  /** [truth][prediction] over MALE, FEMALE, plus faces not found. */
  confusion: { male: { male: number; female: number; none: number }; female: { male: number; female: number; none: number } };
  msMedian: number;
}

export function genderSummary(items: AgeGenderItem[]): GenderSummary {
  // A face the service did not find counts as wrong: the client got no answer.
  const acc = (s: AgeGenderItem[]) => ({ n: s.length, accuracy: s.filter((i) => i.predMale === i.male).length / s.length });
  const row = (male: boolean) => {
    const s = items.filter((i) => i.male === male);
    return { male: s.filter((i) => i.predMale === true).length, female: s.filter((i) => i.predMale === false).length, none: s.filter((i) => i.predMale === undefined).length };
  };
  return {
    n: items.length,
    found: items.filter((i) => i.predMale !== undefined).length,
    accuracy: acc(items).accuracy,
    adults: acc(items.filter((i) => i.age >= 18)),
    children: acc(items.filter((i) => i.age < 18)),
    confusion: { male: row(true), female: row(false) },
    msMedian: median(items.flatMap((i) => i.ms)),
  };
}

export function genderReport(flow: string, s: GenderSummary): string {
  const c = s.confusion;
  return [
    `**${flow}**: ${s.found}/${s.n} faces answered, gender accuracy **${pct(s.accuracy * s.n, s.n)}**; adults (≥ 18) ${pct(s.adults.accuracy * s.adults.n, s.adults.n)} (n = ${s.adults.n}); children (< 18) ${pct(s.children.accuracy * s.children.n, s.children.n)} (n = ${s.children.n}); median server time ${s.msMedian.toFixed(1)} ms per request`,
    '',
    '| truth \\ answer | MALE | FEMALE | no face |',
    '|---|---|---|---|',
    `| male | ${c.male.male} | ${c.male.female} | ${c.male.none} |`,
    `| female | ${c.female.male} | ${c.female.female} | ${c.female.none} |`,
  ].join('\n');
}

// ---------------------------------------------------------------- emotion (FER-2013, CK+)

type Label = (typeof EmotionLabels)[number];

/** Dataset folder names → contract labels. CK+ contempt has no contract label and is left out. */
const AGE_GENDER_REPORTS = {
  age: { report: (title: string, items: AgeGenderItem[]) => ageReport(title, ageSummary(items)), detectNote: '' },
  gender: { report: (title: string, items: AgeGenderItem[]) => genderReport(title, genderSummary(items)), detectNote: '; no face counts as wrong' },
};

/** The age or the gender eval task: the UTKFace chips through its estimator, for both ways a client can send a chip. */
export function ageGenderTask(kind: 'age' | 'gender'): EvalTask {
  const { report, detectNote } = AGE_GENDER_REPORTS[kind];
  return {
    name: kind,
    dataset: 'age_gender_utkface',
    async run() {
      const server = await startServer({ values: attributesValues() });
      try {
        const whole = await evalAgeGender(server.url, { flow: 'whole', services: [kind] });
        const detect = await evalAgeGender(server.url, { flow: 'detect', services: [kind] });
        return [
          `age_gender_utkface (dev split), ${kind}-estimator through HTTP; 200×200 "aligned & cropped" chips`,
          '',
          report('process/sample, no objects (the whole chip is the face)', whole),
          '',
          report(`process/image (faces detected first, min_size 20; largest face${detectNote})`, detect),
        ].join('\n');
      } finally {
        await server.stop();
      }
    },
  };
}

export const EMOTION_DATASETS: Record<'emotion_fer2013' | 'emotion_ckplus', Record<string, Label>> = {
  emotion_fer2013: { angry: 'ANGRY', disgust: 'DISGUSTED', fear: 'SCARED', happy: 'HAPPY', neutral: 'NEUTRAL', sad: 'SAD', surprise: 'SURPRISED' },
  emotion_ckplus: { anger: 'ANGRY', disgust: 'DISGUSTED', fear: 'SCARED', happy: 'HAPPY', sadness: 'SAD', surprise: 'SURPRISED' },
};
export type EmotionDataset = keyof typeof EMOTION_DATASETS;

export interface EmotionItem {
  file: string;
  truth: Label;
  pred: Label | null;
  ms: number;
  inferenceMs: number;
}

/** Each chip goes to emotion-estimator's process/sample with no objects: the chip is the face. */
export async function evalEmotion(url: string, dataset: EmotionDataset, keep?: number): Promise<EmotionItem[]> {
  const root = join(dataRoot(), dataset);
  const map = EMOTION_DATASETS[dataset];
  const rows = everyNth(readCsv(join(root, 'labels.csv')).filter((r) => map[r.emotion]), keep);
  const out: EmotionItem[] = [];
  for (const row of rows) {
    const { face, ms, inferenceMs } = await ask(url, 'emotion-estimator', 'whole', readFileSync(join(root, row.file)));
    const emotions = (face?.emotions ?? []) as { emotion: Label; confidence: number }[];
    const top = emotions.reduce<{ emotion: Label; confidence: number } | null>((m, e) => (!m || e.confidence > m.confidence ? e : m), null);
    out.push({ file: row.file, truth: map[row.emotion], pred: top?.emotion ?? null, ms, inferenceMs });
  }
  return out;
}

export interface EmotionSummary {
  n: number;
  accuracy: number;
  /** Mean of the per-class recalls (the sets are near-balanced; CK+ is not). */
  meanRecall: number;
  classes: Label[];
  /** confusion[truth][pred] */
  confusion: Record<string, Record<string, number>>;
  msMedian: number;
  /** All models of the request: with no objects the flow also fits landmarks and head pose to the chip. */
  inferenceMsMedian: number;
}

export function emotionSummary(items: EmotionItem[], dataset: EmotionDataset): EmotionSummary {
  const classes = EmotionLabels.filter((l) => Object.values(EMOTION_DATASETS[dataset]).includes(l));
  const confusion: Record<string, Record<string, number>> = {};
  for (const t of classes) confusion[t] = Object.fromEntries(EmotionLabels.map((p) => [p, 0]));
  for (const i of items) if (i.pred) confusion[i.truth][i.pred]++;
  const recalls = classes.map((c) => {
    const n = items.filter((i) => i.truth === c).length;
    return n ? confusion[c][c] / n : 0;
  });
  return {
    n: items.length,
    accuracy: items.filter((i) => i.pred === i.truth).length / items.length,
    meanRecall: recalls.reduce((a, b) => a + b, 0) / recalls.length,
    classes,
    confusion,
    msMedian: median(items.map((i) => i.ms)),
    inferenceMsMedian: median(items.map((i) => i.inferenceMs)),
  };
}

export function emotionReport(title: string, s: EmotionSummary): string {
  return [
    `**${title}**: ${s.n} chips, accuracy **${pct(s.accuracy * s.n, s.n)}**, mean per-class recall ${(s.meanRecall * 100).toFixed(1)} %, median server time ${s.msMedian.toFixed(1)} ms per face (inference ${s.inferenceMsMedian.toFixed(1)} ms, incl. the landmark and pose fit of the whole-image flow)`,
    '',
    `| truth \\ answer | ${EmotionLabels.join(' | ')} |`,
    `|---|${EmotionLabels.map(() => '---').join('|')}|`,
    ...s.classes.map((t) => `| ${t} | ${EmotionLabels.map((p) => (p === t ? `**${s.confusion[t][p]}**` : String(s.confusion[t][p]))).join(' | ')} |`),
  ].join('\n');
}
