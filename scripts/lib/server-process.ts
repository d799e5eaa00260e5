import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../shared/models/manifest.js';

/** A server started as a separate process (the built dist/ code), for evals, benches and tests. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Milliseconds from spawn to /health answering 200. */
  readyMs: number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Values YAML text for the all-in-one server (written to a temp file); omit to use the shipped file. */
  values?: string;
  /** `image-api` (all-in-one) or a module name (a single function, configured from env). */
  target?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'image-api-'));
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PORT: '0', ...options.env };
  if (options.values !== undefined) {
    env.IMAGE_API_VALUES = join(dir, 'values.yaml');
    writeFileSync(env.IMAGE_API_VALUES, options.values);
  }
  env.FUNCTION_TARGET = options.target ?? 'image-api';
  const started = Date.now();
  const child = spawn(process.execPath, [join(projectRoot, 'dist', 'functions', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = started + (options.timeoutMs ?? 30_000);
  let url = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const m = /listening on port (\d+)/.exec(out);
    if (m) {
      url = `http://127.0.0.1:${m[1]}`;
      try {
        const r = await fetch(`${url}/health`);
        if (r.status === 200) break;
      } catch {
        /* not yet accepting */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = Date.now() - started;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null) child.kill(signal);
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  if (!url || child.exitCode !== null || Date.now() >= deadline) {
    await stop('SIGKILL');
    throw new Error(`server did not become ready:\n${out}`);
  }
  return { url, child, output: () => out, readyMs, stop };
}

export interface SampleReply {
  status: number;
  body: Record<string, unknown> & { objects?: Record<string, unknown>[] };
  headers: Headers;
}

export async function postSample(url: string, path: string, body: unknown): Promise<SampleReply> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as SampleReply['body'], headers: r.headers };
}

export async function postImage(url: string, path: string, bytes: Uint8Array, filename = 'image.jpg'): Promise<SampleReply> {
  const form = new FormData();
  form.append('image', new Blob([bytes]), filename);
  const r = await fetch(`${url}${path}`, { method: 'POST', body: form });
  return { status: r.status, body: (await r.json()) as SampleReply['body'], headers: r.headers };
}
