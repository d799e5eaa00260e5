import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../../shared/models/manifest.js';

/** The labelled evaluation images live outside the repo (their licences forbid copying them in). */
export const dataRoot = () => resolve(process.env.IMAGE_API_DATA ?? join(projectRoot, '..', 'shared', 'data'));
export const hasDataset = (name: string) => existsSync(join(dataRoot(), name));

/** Minimal CSV (no quoted commas in these files) → rows keyed by the header. */
export function readCsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const keys = header.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(keys.map((k, i) => [k, cells[i] ?? '']));
  });
}
