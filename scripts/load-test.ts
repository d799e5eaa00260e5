/**
 * `npm run load-test [-- --duration=60 --connections=32 --warmup=10 --max-requests=300000]`
 *
 * Load on the all-in-one server, started as a separate process (dist/ build) on loopback: autocannon
 * keeps `connections` clients busy for `duration` seconds with a mix of the face services — fitter and
 * template extractor on a 640×480 one-face JPEG, matcher on two templates — after a warm-up with the
 * same mix. Prints requests by service and status, latency percentiles, and the server's memory, and
 * exits 1 if the server crashed, answered a 5xx other than the designed 503, or lost a connection, or
 * if its RSS after the run exceeds 1.2 × its RSS after the warm-up. Bounded in time (duration) and in
 * count (max-requests); nothing leaves 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { startServer, type ServerProcess } from './lib/server-process.js';

const require = createRequire(import.meta.url);

// ---- the parts of autocannon 8 used here (it ships no types) ----
interface AcRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface AcClient {
  on(event: 'response', listener: (status: number, bytes: number, ms: number) => void): void;
  requestIterator?: { context?: Record<string, unknown> };
}
interface AcHistogram {
  average: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
}
interface AcResult {
  latency: AcHistogram;
  requests: AcHistogram & { total: number; sent: number };
  statusCodeStats?: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AcInstance extends PromiseLike<AcResult> {
  stop(): void;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: AcRequest[];
  timeout: number;
  setupClient?: (client: AcClient) => void;
}) => AcInstance;
const autocannon = require('autocannon') as Autocannon;

// ---- arguments ----
const arg = (name: string, fallback: number) => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: a positive number, got ${v}`);
  return n;
};
const DURATION = arg('duration', 60);
const CONNECTIONS = arg('connections', 32);
const WARMUP = arg('warmup', 10);
const MAX_REQUESTS = arg('max-requests', 300_000);

const SERVICES = ['face-detector-face-fitter', 'face-detector-template-extractor', 'verify-matcher'] as const;
type Service = (typeof SERVICES)[number];

function vmKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}
const mib = (kib: number) => (kib / 1024).toFixed(0);

async function post(server: ServerProcess, path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

/** 640×480 around one face of the MIT-licensed demo photo sample2 (@vladmandic/face-api). */
async function selfie(): Promise<Buffer> {
  const photo = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample2.jpg');
  return sharp(photo).extract({ left: 1240, top: 40, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
}

interface Tally {
  statuses: Map<number, number>;
  latencies: number[];
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);

async function run(server: ServerProcess, bodies: Record<Service, string>, seconds: number, tallies?: Map<string, Tally>): Promise<AcResult> {
  let seen = 0;
  const requests: AcRequest[] = SERVICES.map((service) => ({
    method: 'POST',
    path: `/${service}/process/sample`,
    headers: { 'content-type': 'application/json' },
    body: bodies[service],
    onResponse: (_status, _body, context) => {
      context.service = service;
    },
  }));
  const instance = autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
    timeout: 30,
    setupClient: (client) => {
      client.on('response', (status, _bytes, ms) => {
        if (++seen >= MAX_REQUESTS) instance.stop();
        if (!tallies) return;
        const service = String(client.requestIterator?.context?.service ?? 'unknown');
        const t: Tally = tallies.get(service) ?? { statuses: new Map<number, number>(), latencies: [] };
        t.statuses.set(status, (t.statuses.get(status) ?? 0) + 1);
        t.latencies.push(ms);
        tallies.set(service, t);
      });
    },
  });
  return instance;
}

async function main(): Promise<number> {
  const server = await startServer();
  const pid = server.child.pid!;
  const problems: string[] = [];
  try {
    console.log(`server ${server.url} (pid ${pid}) ready in ${server.readyMs} ms; RSS at rest ${mib(vmKiB(pid, 'VmRSS'))} MiB`);
    const image = (await selfie()).toString('base64');
    const extracted = await post(server, '/face-detector-template-extractor/process/sample', JSON.stringify({ $image: image }));
    const faces = extracted.json.objects as { $template: string }[];
    if (extracted.status !== 200 || faces.length < 1) throw new Error(`template extraction failed: ${extracted.status}`);
    const bodies: Record<Service, string> = {
      'face-detector-face-fitter': JSON.stringify({ $image: image }),
      'face-detector-template-extractor': JSON.stringify({ $image: image }),
      'verify-matcher': JSON.stringify({ objects: [{ class: 'face', $template: faces[0].$template }, { class: 'face', $template: faces[0].$template }] }),
    };
    const reference = new Map<Service, string>();
    for (const s of SERVICES) {
      const r = await post(server, `/${s}/process/sample`, bodies[s]);
      if (r.status !== 200) throw new Error(`${s}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
      reference.set(s, JSON.stringify(r.json));
    }

    console.log(`warm-up: ${WARMUP} s at ${CONNECTIONS} connections…`);
    await run(server, bodies, WARMUP);
    const warmRss = vmKiB(pid, 'VmRSS');
    console.log(`RSS after warm-up ${mib(warmRss)} MiB; load: ${DURATION} s at ${CONNECTIONS} connections (at most ${MAX_REQUESTS} requests)…`);

    const tallies = new Map<string, Tally>();
    const result = await run(server, bodies, DURATION, tallies);
    const afterRss = vmKiB(pid, 'VmRSS');
    const peak = vmKiB(pid, 'VmHWM');

    // ---- report ----
    const statuses = new Set<number>();
    for (const t of tallies.values()) for (const s of t.statuses.keys()) statuses.add(s);
    const codes = [...statuses].sort((a, b) => a - b);
    const rows = [...tallies].map(([service, t]) => {
      const sorted = [...t.latencies].sort((a, b) => a - b);
      return [service, ...codes.map((c) => String(t.statuses.get(c) ?? 0)), ...[0.5, 0.9, 0.99, 1].map((p) => percentile(sorted, p).toFixed(0))];
    });
    const header = ['service', ...codes.map(String), 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
    const total = [...tallies.values()].reduce((n, t) => n + t.latencies.length, 0);
    const l = result.latency;
    console.log(
      `\n${total} responses in ${result.duration.toFixed(1)} s (${(total / result.duration).toFixed(1)} req/s); ` +
        `latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p99_9} ms, max ${l.max} ms; ` +
        `errors ${result.errors}, timeouts ${result.timeouts}`,
    );
    console.log(`RSS: ${mib(warmRss)} MiB after warm-up, ${mib(afterRss)} MiB after the run (×${(afterRss / warmRss).toFixed(2)}), peak ${mib(peak)} MiB`);

    // ---- verdict ----
    if (server.child.exitCode !== null) problems.push(`the server exited with ${server.child.exitCode}`);
    for (const c of codes) if (c >= 500 && c !== 503) problems.push(`${c} answers`);
    if (result.errors > 0 || result.timeouts > 0) problems.push(`${result.errors} connection errors, ${result.timeouts} timeouts`);
    if (total === 0) problems.push('no responses');
    if (afterRss > 1.2 * warmRss) problems.push(`RSS grew from ${mib(warmRss)} to ${mib(afterRss)} MiB (> ×1.2)`);
    if (server.child.exitCode === null) {
      for (const s of SERVICES) {
        const r = await post(server, `/${s}/process/sample`, bodies[s]);
        if (r.status !== 200 || JSON.stringify(r.json) !== reference.get(s)) problems.push(`${s} answers differently after the run`);
      }
    }
    if (/"severity":"ERROR"/.test(server.output())) problems.push('the server logged errors');
  } finally {
    await server.stop();
  }
  console.log(problems.length ? `\nFAIL: ${problems.join('; ')}` : '\nPASS: no crash, no 5xx but 503, no lost connection, memory flat');
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`load-test: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
