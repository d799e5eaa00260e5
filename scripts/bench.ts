/**
 * `npm run bench [-- --quick] [--no-peer] [--services a,b]`: speed of every served service, printed as
 * tables and written to bench-results/bench-<time>.json. Measures, on this machine:
 *  - cold start of each service as its own function process (spawn → /health ready → first answer) and
 *    of the all-in-one server, with peak RSS (VmHWM);
 *  - sequential latency p50/p90/p99 over HTTP on the all-in-one server, split into decode / inference /
 *    rest from the server's Server-Timing header;
 *  - throughput and errors at concurrency 1, 4 and 16 with autocannon;
 *  - the peer (@vladmandic/human, WASM backend) on the same detect + descriptor job, in the same run.
 * Images: a 640×480 one-face JPEG and a 1920-px group photo from @vladmandic/face-api's demo set.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { loadValues, servicesFromValues } from '../shared/config/values.js';
import { containerEnv } from '../shared/deploy/knative-manifests.js';
import { projectRoot } from '../shared/models/manifest.js';
import { demoPhoto, demoPhotoPath, oneFace640 } from './lib/sample-images.js';
import { postSample, startServer, type ServerProcess } from './lib/server-process.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--services='))?.split('=')[1]?.split(',');
const SEQUENTIAL = quick ? 10 : 40;
const LOAD_SECONDS = quick ? 2 : 5;
const CONCURRENCY = [1, 4, 16];

type Obj = Record<string, unknown>;
interface Image {
  name: string;
  bytes: Buffer;
  path?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');

function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

function timing(header: string | null): { decode: number; inference: number; rest: number } {
  const get = (k: string) => Number(new RegExp(`${k};dur=([\\d.]+)`).exec(header ?? '')?.[1] ?? NaN);
  return { decode: get('decode'), inference: get('inference'), rest: get('rest') };
}

/** The request a service gets in the bench: estimators are given the fitter's face objects ("on a given face object"). */
async function requestFor(url: string, service: string, image: Image): Promise<Obj> {
  const $image = image.bytes.toString('base64');
  if (service === 'verify-matcher') {
    const r = await postSample(url, '/face-detector-template-extractor/process/sample', { $image });
    const faces = r.body.objects ?? [];
    const a = faces[0]?.$template, b = (faces[1] ?? faces[0])?.$template;
    return { objects: [{ class: 'face', $template: a }, { class: 'face', $template: b }] };
  }
  if (['face-detector-face-fitter', 'face-detector-template-extractor', 'body-detector', 'face-detector-liveness-estimator'].includes(service)) {
    return { $image };
  }
  const r = await postSample(url, '/face-detector-face-fitter/process/sample', { $image });
  return { $image, objects: r.body.objects ?? [] };
}

interface LatencyRow {
  service: string;
  image: string;
  p50: number;
  p90: number;
  p99: number;
  decode: number;
  inference: number;
  rest: number;
  throughput: Record<number, { rps: number; errors: number; p50: number }>;
}

async function measureService(server: ServerProcess, service: string, image: Image): Promise<LatencyRow> {
  const body = JSON.stringify(await requestFor(server.url, service, image));
  const path = `${server.url}/${service}/process/sample`;
  const times: number[] = [];
  const parts: { decode: number; inference: number; rest: number }[] = [];
  for (let i = 0; i < SEQUENTIAL + 2; i++) {
    const t = performance.now();
    const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${service}: HTTP ${r.status}`);
    if (i < 2) continue; // warm the route
    times.push(performance.now() - t);
    parts.push(timing(r.headers.get('server-timing')));
  }
  const throughput: LatencyRow['throughput'] = {};
  for (const connections of CONCURRENCY) {
    const result = await autocannon({ url: path, connections, duration: LOAD_SECONDS, method: 'POST', headers: { 'content-type': 'application/json' }, body, timeout: 30 });
    throughput[connections] = { rps: result.requests.total / result.duration, errors: result.errors + result.timeouts + result.non2xx, p50: result.latency.p50 };
  }
  return {
    service,
    image: image.name,
    p50: median(times),
    p90: pct(times, 0.9),
    p99: pct(times, 0.99),
    decode: median(parts.map((p) => p.decode)),
    inference: median(parts.map((p) => p.inference)),
    rest: median(parts.map((p) => p.rest)),
    throughput,
  };
}

interface ColdRow {
  target: string;
  readyMs: number;
  firstAnswerMs: number;
  peakRssMb: number;
}

async function coldStart(target: string, env: Record<string, string>, service: string | null, image: Image): Promise<ColdRow> {
  const started = performance.now();
  const server = await startServer({ target, env });
  const readyMs = performance.now() - started;
  const services = service ? [service] : [];
  if (!service) {
    const health = (await (await fetch(`${server.url}/health`)).json()) as { services: Obj };
    services.push(...Object.keys(health.services));
  }
  // First answered request: a detector request for the service itself (estimators: the image alone).
  const prefix = service ? '' : `/${services[0]}`;
  const needsTemplates = services[0] === 'verify-matcher';
  const r = await fetch(`${server.url}${prefix}/process/${needsTemplates ? 'image' : 'sample'}`, needsTemplates
    ? { method: 'POST', body: (() => { const f = new FormData(); f.append('image', new Blob([demoPhoto(1)]), 'a.jpg'); return f; })() }
    : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ $image: image.bytes.toString('base64') }) });
  await r.arrayBuffer();
  const firstAnswerMs = performance.now() - started;
  const rss = peakRssMb(server.child.pid);
  await server.stop();
  return { target, readyMs, firstAnswerMs, peakRssMb: rss };
}

interface PeerResult {
  backend: string;
  loadMs: number;
  rssMb: number;
  results: { file: string; faces: number; firstMs: number; medianMs: number }[];
}

function runPeer(files: string[]): Promise<PeerResult | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, 'dist', 'scripts', 'bench', 'peer-worker.js'), JSON.stringify(files), String(quick ? 5 : 10)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as PeerResult);
      } catch {
        console.error(`peer failed: ${err.slice(-500)}`);
        resolve(null);
      }
    });
  });
}

async function main(): Promise<void> {
  const oneFace: Image = { name: '640×480, 1 face', bytes: await oneFace640() };
  mkdirSync(join(projectRoot, 'bench-results'), { recursive: true });
  oneFace.path = join(projectRoot, 'bench-results', 'one-face-640.jpg');
  writeFileSync(oneFace.path, oneFace.bytes);
  const group: Image = { name: '1920×1280, 3 faces', bytes: demoPhoto(1), path: demoPhotoPath(1) };
  const values = loadValues();
  const configs = servicesFromValues(values);
  const services = [...configs.keys()].filter((s) => !only || only.includes(s));
  const date = new Date().toISOString();
  console.log(`# Image API bench — ${date}\n\n${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${quick ? 'quick' : 'full'} run\n`);

  // Cold starts: each service as its own function, configured exactly as its Knative Service would be.
  const cold: ColdRow[] = [];
  if (!args.includes('--no-cold')) cold.push(await coldStart('image-api', {}, null, oneFace));
  for (const service of args.includes('--no-cold') ? [] : services) {
    const config = configs.get(service)!;
    // The Service's container env: config overrides, limits, and MODULE_WORKERS for its CPU (0 for one CPU).
    cold.push(await coldStart(config.module, containerEnv(config, values.processing.services[service], service), service, oneFace));
  }
  console.log('## Cold start (spawn → ready → first answer) and peak RSS\n');
  console.log('| process | ready ms | first answer ms | peak RSS MB |\n|---|---|---|---|');
  for (const c of cold) console.log(`| ${c.target} | ${c.readyMs.toFixed(0)} | ${c.firstAnswerMs.toFixed(0)} | ${c.peakRssMb.toFixed(0)} |`);

  const server = await startServer();
  const rows: LatencyRow[] = [];
  let allInOneRss = NaN;
  try {
    for (const service of services) for (const image of [oneFace, group]) rows.push(await measureService(server, service, image));
  } finally {
    allInOneRss = peakRssMb(server.child.pid);
    await server.stop();
  }
  console.log(`\n## Latency over HTTP, all-in-one server (sequential, ms; n = ${SEQUENTIAL}) and throughput (autocannon, ${LOAD_SECONDS} s each)\n`);
  console.log(`| service | image | p50 | p90 | p99 | decode | inference | rest | req/s c=1 | c=4 | c=16 | errors | c=4 / c=1 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    const t = r.throughput;
    const errors = CONCURRENCY.reduce((s, c) => s + t[c].errors, 0);
    console.log(`| ${r.service} | ${r.image} | ${f1(r.p50)} | ${f1(r.p90)} | ${f1(r.p99)} | ${f1(r.decode)} | ${f1(r.inference)} | ${f1(r.rest)} | ${f1(t[1].rps)} | ${f1(t[4].rps)} | ${f1(t[16].rps)} | ${errors} | ${(t[4].rps / t[1].rps).toFixed(2)} |`);
  }
  console.log(`\nAll-in-one peak RSS after the run: ${allInOneRss.toFixed(0)} MB`);

  let peer: PeerResult | null = null;
  if (!args.includes('--no-peer')) {
    peer = await runPeer([oneFace.path, group.path!]);
    const ours = (image: Image) => rows.find((r) => r.service === 'face-detector-template-extractor' && r.image === image.name);
    if (peer) {
      console.log(`\n## Peer: @vladmandic/human (${peer.backend} backend) — detect faces + descriptor, same images\n`);
      console.log(`Peer load ${peer.loadMs.toFixed(0)} ms, RSS ${peer.rssMb.toFixed(0)} MB.\n`);
      console.log('| image | peer faces | peer first ms | peer median ms | ours median ms (template extractor, HTTP) | ours / peer time | ours c=4 req/s ÷ peer req/s |\n|---|---|---|---|---|---|---|');
      let sumOurs = 0, sumPeer = 0;
      [oneFace, group].forEach((image, i) => {
        const p = peer!.results[i];
        const o = ours(image);
        if (!o) return;
        sumOurs += o.p50;
        sumPeer += p.medianMs;
        console.log(`| ${image.name} | ${p.faces} | ${p.firstMs.toFixed(0)} | ${p.medianMs.toFixed(1)} | ${f1(o.p50)} | ${(o.p50 / p.medianMs).toFixed(3)} | ${(o.throughput[4].rps / (1000 / p.medianMs)).toFixed(1)}× |`);
      });
      if (sumPeer) console.log(`\nOverall (sum of medians): ours / peer = ${(sumOurs / sumPeer).toFixed(3)} (${(sumPeer / sumOurs).toFixed(1)}× faster)`);
    }
  }
  const file = join(projectRoot, 'bench-results', `bench-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date, quick, cpus: cpus().length, node: process.version, cold, rows, allInOneRss, peer }, null, 1));
  console.log(`\nwrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
