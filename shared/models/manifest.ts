import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ModelEntry = z.object({
  name: z.string(),
  package: z.string(),
  version: z.string(),
  licence: z.string(),
  sources: z.array(z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).min(1),
  /** `tfjs-graph`: the sources are a TFJS graph model (model.json + shards) converted to ONNX at install. */
  convert: z.literal('tfjs-graph').optional(),
  target: z.string(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

const Manifest = z.object({ $comment: z.string().optional(), models: z.array(ModelEntry) });

/** The repository root, found from this file's place in either the source tree or dist/. */
export const projectRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      readFileSync(join(dir, 'models', 'manifest.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  return process.cwd();
})();

export const modelsDir = () => resolve(process.env.IMAGE_API_MODELS_DIR ?? join(projectRoot, 'models'));

let cached: ModelEntry[] | undefined;
export function readManifest(): ModelEntry[] {
  cached ??= Manifest.parse(JSON.parse(readFileSync(join(projectRoot, 'models', 'manifest.json'), 'utf8'))).models;
  return cached;
}

export function manifestEntry(name: string): ModelEntry {
  const entry = readManifest().find((m) => m.name === name);
  if (!entry) throw new Error(`model "${name}" is not in models/manifest.json`);
  return entry;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The fingerprint a materialised model must carry: the hash of its sources (copied or converted). */
export const sourceFingerprint = (entry: ModelEntry) =>
  sha256(Buffer.from(entry.sources.map((s) => s.sha256).join('\n') + (entry.convert ? `\n${entry.convert}` : '')));

/**
 * Beside each model file: line 1 the source fingerprint, line 2 the sha256 of the file as written.
 * Lets a start-up check catch both a stale conversion and a damaged file.
 */
export const stampPath = (entry: ModelEntry) => join(modelsDir(), `${entry.target}.sha256`);

export class ModelFileError extends Error {}

/**
 * Checks a materialised model before a session is created: present, and made from the sources the
 * manifest names. Fails with the file and the command that restores it.
 */
export function verifiedModelBytes(name: string): Uint8Array {
  const entry = manifestEntry(name);
  const path = join(modelsDir(), entry.target);
  const restore = 'restore it with `npm run install-models` (or `npm install`)';
  let bytes: Buffer;
  let stamp: string[];
  try {
    bytes = readFileSync(path);
    stamp = readFileSync(stampPath(entry), 'utf8').trim().split('\n');
  } catch {
    throw new ModelFileError(`model file ${path} is missing: ${restore}`);
  }
  if (stamp[0] !== sourceFingerprint(entry)) {
    throw new ModelFileError(`model file ${path} was built from other sources than models/manifest.json names: ${restore}`);
  }
  if (sha256(bytes) !== stamp[1]) throw new ModelFileError(`model file ${path} is corrupt (sha256 mismatch): ${restore}`);
  return bytes;
}
