/**
 * Rebuilds the verify-matcher's ROC table from labelled pairs:
 *   npm run calibrate -- [--data DIR]
 * Data set: ../shared/data/face_verification (deepface + LFW subsets; see its README). Starts a template
 * extractor as a separate process, embeds every image, and writes cfg/calibration/<tag>.roc.json:
 * FAR and FRR at distance thresholds 0.00…2.00, and a logistic fit of P(same | distance) for `score`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { templateTag } from '../shared/blocks/face-recognizer.js';
import { rocTablePath, type RocTable } from '../shared/blocks/matcher.js';
import { RecognizerParams } from '../shared/config/config-object.js';
import { startServer } from './lib/server-process.js';
import { verificationDistances, verificationReport } from './eval/verification.js';

const EXTRACTOR_ONLY = `processing:
  services:
    face-detector-template-extractor:
      configs:
        - name: common_capturer_uld_fda.xml
          params: { min_size: 20 }
`;

/** Two-parameter logistic regression P(same) = σ(a + b·d) by Newton's method. */
function fitLogistic(genuine: number[], impostor: number[]): { a: number; b: number } {
  const xs = [...genuine, ...impostor];
  const ys = [...genuine.map(() => 1), ...impostor.map(() => 0)];
  let a = 0, b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0, gb = 0, haa = 1e-6, hab = 0, hbb = 1e-6;
    for (let i = 0; i < xs.length; i++) {
      const p = 1 / (1 + Math.exp(-(a + b * xs[i])));
      const w = p * (1 - p);
      ga += ys[i] - p;
      gb += (ys[i] - p) * xs[i];
      haa += w;
      hab += w * xs[i];
      hbb += w * xs[i] * xs[i];
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    // Separable data would push the slope to infinity; bound it so the score stays graded.
    a = Math.max(-60, Math.min(60, a + da));
    b = Math.max(-60, Math.min(60, b + db));
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

export function buildRocTable(tag: string, genuine: number[], impostor: number[]): RocTable {
  const points: RocTable['points'] = [];
  for (let k = 0; k <= 200; k++) {
    const t = k / 100;
    points.push({
      distance: t,
      far: impostor.filter((d) => d <= t).length / impostor.length,
      frr: genuine.filter((d) => d > t).length / genuine.length,
    });
  }
  return {
    tag,
    dataset: 'face_verification (../shared/data, dev split: deepface 13 identities + LFW 10 identities)',
    command: 'npm run calibrate',
    pairs: { genuine: genuine.length, impostor: impostor.length },
    points,
    logistic: fitLogistic(genuine, impostor),
  };
}

async function main(): Promise<void> {
  const server = await startServer({ values: EXTRACTOR_ONLY });
  try {
    const d = await verificationDistances(server.url);
    console.log(verificationReport(d));
    const tag = templateTag(RecognizerParams.parse({ model: 'fr_feature', flip_augmentation: false }));
    const table = buildRocTable(tag, d.genuine, d.impostor);
    const path = rocTablePath(tag);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(table, null, 1) + '\n');
    console.log(`wrote ${path} (logistic a=${table.logistic.a.toFixed(3)}, b=${table.logistic.b.toFixed(3)})`);
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
