/**
 * The peer in its own process: @vladmandic/human (MIT) with its WASM backend and shipped models, doing
 * the same job as our detect + template path — find faces and compute a face descriptor — on the same
 * images. Prints one JSON line. Its models are served over loopback HTTP because tfjs in Node without
 * tfjs-node cannot read file:// URLs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

interface HumanResult {
  face: { embedding?: number[] }[];
}
interface HumanInstance {
  load(): Promise<void>;
  detect(input: unknown): Promise<HumanResult>;
  tf: { tensor3d(data: Uint8Array, shape: number[], dtype: string): unknown; dispose(t: unknown): void; getBackend(): string };
}

const require = createRequire(import.meta.url);
const started = performance.now();
/** A package's folder, found from its main entry (these packages do not export package.json). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const humanDir = packageDir('@vladmandic/human');
const { Human } = require(join(humanDir, 'dist', 'human.node-wasm.js')) as { Human: new (config: object) => HumanInstance };
const wasmDir = join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');

async function main(): Promise<void> {
  const files = JSON.parse(process.argv[2]) as string[];
  const iterations = Number(process.argv[3] ?? 10);
  const modelDir = join(humanDir, 'models');
  const server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(modelDir, basename(req.url ?? ''))));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const human = new Human({
    backend: 'wasm',
    wasmPath: `file://${wasmDir}/`,
    modelBasePath: `http://127.0.0.1:${port}/`,
    debug: false,
    warmup: 'none',
    cacheSensitivity: 0,
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 20 },
      mesh: { enabled: true },
      iris: { enabled: false },
      description: { enabled: true },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  });
  await human.load();
  const loadMs = performance.now() - started;
  const results: { file: string; faces: number; firstMs: number; medianMs: number }[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const times: number[] = [];
    let faces = 0;
    for (let i = 0; i < iterations + 1; i++) {
      const t = performance.now();
      const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const tensor = human.tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
      const r = await human.detect(tensor);
      human.tf.dispose(tensor);
      times.push(performance.now() - t);
      faces = r.face.filter((f) => f.embedding && f.embedding.length > 0).length;
    }
    const steady = times.slice(1).sort((a, b) => a - b);
    results.push({ file, faces, firstMs: times[0], medianMs: steady[Math.floor(steady.length / 2)] });
  }
  server.close();
  console.log(JSON.stringify({ backend: human.tf.getBackend(), loadMs, results, rssMb: process.memoryUsage().rss / 2 ** 20 }));
  process.exit(0);
}

void main();
