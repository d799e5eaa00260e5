import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../contract/errors.js';
import type { Verification } from '../contract/objects.js';
import { projectRoot } from '../models/manifest.js';
import type { FaceTemplate } from './face-template.js';

/**
 * A ROC table measured on labelled pairs (scripts/calibrate-verification.ts writes it): at each distance
 * threshold, the false-acceptance and false-rejection rates; plus a logistic fit of P(same | distance)
 * that serves as `score`.
 */
export const RocTable = z.object({
  tag: z.string(),
  dataset: z.string(),
  command: z.string(),
  pairs: z.object({ genuine: z.number().int(), impostor: z.number().int() }),
  points: z.array(z.object({ distance: z.number(), far: z.number(), frr: z.number() })).min(2),
  logistic: z.object({ a: z.number(), b: z.number() }),
});
export type RocTable = z.infer<typeof RocTable>;

export const rocTablePath = (tag: string) => join(projectRoot, 'cfg', 'calibration', `${tag.replace(/[^A-Za-z0-9._-]/g, '_')}.roc.json`);

export function loadRocTable(tag: string): RocTable {
  return RocTable.parse(JSON.parse(readFileSync(rocTablePath(tag), 'utf8')));
}

/** Distance between two L2-normalised templates: Euclidean, 0 (identical) … 2 (opposite). */
export function templateDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = dot / (Math.sqrt(na * nb) || 1);
  return Math.sqrt(Math.max(0, 2 - 2 * cos));
}

function interpolate(points: RocTable['points'], d: number, key: 'far' | 'frr'): number {
  if (d <= points[0].distance) return points[0][key];
  const last = points[points.length - 1];
  if (d >= last.distance) return last[key];
  let lo = 0, hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].distance <= d) lo = mid;
    else hi = mid;
  }
  const p = points[lo], q = points[hi];
  const t = q.distance === p.distance ? 0 : (d - p.distance) / (q.distance - p.distance);
  return p[key] + t * (q[key] - p[key]);
}

export class Matcher {
  constructor(private readonly table: RocTable) {}

  compare(a: FaceTemplate, b: FaceTemplate): Verification {
    if (a.tag !== b.tag) {
      throw new ApiError(400, `Templates were made by different recognizer methods ("${a.tag}" and "${b.tag}") and cannot be compared`);
    }
    if (a.tag !== this.table.tag) {
      throw new ApiError(400, `Template method "${a.tag}" does not match this matcher's recognizer ("${this.table.tag}")`);
    }
    if (a.vector.length !== b.vector.length) throw new ApiError(400, 'Templates have different dimensions');
    const distance = templateDistance(a.vector, b.vector);
    const { a: la, b: lb } = this.table.logistic;
    return {
      distance,
      fa_r: interpolate(this.table.points, distance, 'far'),
      fr_r: interpolate(this.table.points, distance, 'frr'),
      score: 1 / (1 + Math.exp(-(la + lb * distance))),
    };
  }
}
