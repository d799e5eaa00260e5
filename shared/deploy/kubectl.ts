import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { INSTALL_SELECTOR, renderObjects, type Deployment, type K8sObject } from './knative-manifests.js';

/**
 * The cluster side of the CLI: kubectl (apply semantics, so re-running install is idempotent), or kn when
 * kubectl is absent. Everything is a list of plain command steps first, so --dry-run can print exactly
 * what a real run would execute.
 */

export type ToolKind = 'kubectl' | 'kn';
export interface Tool {
  kind: ToolKind;
  path: string;
}

export class ClusterError extends Error {
  override name = 'ClusterError';
}

/** Resolves a command on PATH the way a shell would. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** kubectl when present (or asked for), else kn; a ClusterError naming both when neither is on PATH. */
export function chooseTool(preferred?: ToolKind): Tool {
  const order: ToolKind[] = preferred ? [preferred] : ['kubectl', 'kn'];
  for (const kind of order) {
    const path = findExecutable(kind);
    if (path) return { kind, path };
  }
  throw new ClusterError(
    preferred
      ? `${preferred} was not found on PATH`
      : 'neither kubectl nor kn was found on PATH; install kubectl (https://kubernetes.io/docs/tasks/tools/) and point it at a cluster with Knative Serving and Eventing',
  );
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; `inherit` streams its output to the user (apply, delete, get, diff). */
export function run(tool: Tool, args: string[], options: { inherit?: boolean; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(tool.path, args, {
    encoding: 'utf8',
    stdio: options.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
  });
  if (r.error) return { code: 127, stdout: '', stderr: r.error.message };
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const firstLine = (text: string) => text.trim().split('\n').find((l) => l.trim() !== '') ?? '';

export interface ClusterApis {
  serving: boolean;
  eventing: boolean;
}

/** Is a cluster reachable, and does it serve Knative's APIs? A ClusterError with the reason if not. */
export function checkCluster(tool: Tool, namespace: string, needEventing: boolean): ClusterApis {
  let apis: ClusterApis;
  if (tool.kind === 'kubectl') {
    const r = run(tool, ['api-versions', '--request-timeout=15s'], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new ClusterError(`no reachable Kubernetes cluster (kubectl api-versions: ${firstLine(r.stderr) || `exit ${r.code}`})`);
    const versions = new Set(r.stdout.split('\n').map((l) => l.trim()));
    apis = { serving: versions.has('serving.knative.dev/v1'), eventing: versions.has('eventing.knative.dev/v1') };
  } else {
    const serving = run(tool, ['service', 'list', '-n', namespace], { timeoutMs: 30_000 });
    if (serving.code !== 0) throw new ClusterError(`no reachable cluster with Knative Serving (kn service list: ${firstLine(serving.stderr) || `exit ${serving.code}`})`);
    apis = { serving: true, eventing: run(tool, ['broker', 'list', '-n', namespace], { timeoutMs: 30_000 }).code === 0 };
  }
  if (!apis.serving) throw new ClusterError('the cluster does not serve serving.knative.dev/v1: install Knative Serving first (see docs/deploy.md)');
  if (needEventing && !apis.eventing) {
    throw new ClusterError('the cluster does not serve eventing.knative.dev/v1: install Knative Eventing, or set processing.enable_eventing: false');
  }
  return apis;
}

export interface Step {
  /** Empty: nothing to run unless the resource exists (see below). */
  args: string[];
  /** kn only: a command whose success means the resource exists already… */
  exists?: string[];
  /** …in which case these args run instead of `args` (null: nothing to do). */
  whenExists?: string[] | null;
  /** A manifest the step reads from a temporary file (kn service apply takes one Service per file). */
  manifest?: K8sObject;
}

const kinds = (apis: ClusterApis) =>
  ['services.serving.knative.dev', ...(apis.eventing ? ['triggers.eventing.knative.dev', 'brokers.eventing.knative.dev'] : [])].join(',');

export function installSteps(tool: Tool, deployment: Deployment, files: string[]): Step[] {
  if (tool.kind === 'kubectl') return [{ args: ['apply', ...files.flatMap((f) => ['-f', f])] }];
  // kn cannot create namespaces and has no generic apply: one command per resource, create-if-missing.
  const ns = deployment.namespace;
  const steps: Step[] = [];
  const objects = deployment.files.flatMap((f) => f.objects);
  for (const o of objects.filter((x) => x.kind === 'Broker')) {
    steps.push({ args: ['broker', 'create', o.metadata.name, '-n', ns], exists: ['broker', 'describe', o.metadata.name, '-n', ns], whenExists: null });
  }
  for (const o of objects.filter((x) => x.kind === 'Service')) {
    steps.push({ args: ['service', 'apply', o.metadata.name, '-n', ns, '--filename', '{file}'], manifest: o });
  }
  for (const o of objects.filter((x) => x.kind === 'Trigger')) {
    const spec = o.spec as { broker: string; filter: { attributes: { type: string } }; subscriber: { ref: { name: string } } };
    const flags = ['--filter', `type=${spec.filter.attributes.type}`, '--sink', `ksvc:${spec.subscriber.ref.name}`, '-n', ns];
    steps.push({
      args: ['trigger', 'create', o.metadata.name, '--broker', spec.broker, ...flags],
      exists: ['trigger', 'describe', o.metadata.name, '-n', ns],
      whenExists: ['trigger', 'update', o.metadata.name, ...flags],
    });
  }
  return steps;
}

export function uninstallSteps(tool: Tool, deployment: Deployment, apis: ClusterApis): Step[] {
  const ns = deployment.namespace;
  if (tool.kind === 'kubectl') {
    // By label, so services dropped from the values file since the last install go too; the namespace stays.
    return [{ args: ['delete', kinds(apis), '-n', ns, '-l', INSTALL_SELECTOR, '--ignore-not-found'] }];
  }
  const objects = deployment.files.flatMap((f) => f.objects);
  const steps: Step[] = [];
  for (const kind of ['Trigger', 'Service', 'Broker'] as const) {
    if (kind !== 'Service' && !apis.eventing) continue;
    for (const o of objects.filter((x) => x.kind === kind)) {
      const noun = kind.toLowerCase();
      // Only what exists: a missing resource is already uninstalled, not a failure.
      steps.push({ args: [], exists: [noun, 'describe', o.metadata.name, '-n', ns], whenExists: [noun, 'delete', o.metadata.name, '-n', ns] });
    }
  }
  return steps;
}

export function statusSteps(tool: Tool, deployment: Deployment, apis: ClusterApis): Step[] {
  const ns = deployment.namespace;
  if (tool.kind === 'kubectl') return [{ args: ['get', kinds(apis), '-n', ns, '-l', INSTALL_SELECTOR] }];
  return [{ args: ['service', 'list', '-n', ns] }, ...(apis.eventing ? [{ args: ['broker', 'list', '-n', ns] }, { args: ['trigger', 'list', '-n', ns] }] : [])];
}

export function diffSteps(tool: Tool, files: string[]): Step[] {
  if (tool.kind !== 'kubectl') throw new ClusterError('diff needs kubectl (kn has no diff)');
  return [{ args: ['diff', ...files.flatMap((f) => ['-f', f])] }];
}

/** How a step reads when printed (--dry-run). */
export function describeStep(tool: Tool, step: Step): string {
  const cmd = [tool.kind, ...step.args.map((a) => (a === '{file}' ? `<${step.manifest?.metadata.name}.yaml>` : /[\s"'$]/.test(a) ? `'${a}'` : a))].join(' ');
  if (!step.exists) return cmd;
  if (step.args.length === 0 && step.whenExists) return `${[tool.kind, ...step.whenExists].join(' ')}    # if \`${[tool.kind, ...step.exists].join(' ')}\` succeeds`;
  const instead = step.whenExists ? `${[tool.kind, ...step.whenExists].join(' ')}` : 'nothing';
  return `${cmd}    # if \`${[tool.kind, ...step.exists].join(' ')}\` succeeds: ${instead}`;
}

/** Runs the steps in order; stops at the first failure and returns its exit code (0 when all succeeded). */
export function runSteps(tool: Tool, steps: Step[]): number {
  const dir = steps.some((s) => s.manifest) ? mkdtempSync(join(tmpdir(), 'image-api-kn-')) : undefined;
  try {
    for (const step of steps) {
      let args = step.args;
      if (step.exists && run(tool, step.exists).code === 0) {
        if (!step.whenExists) continue;
        args = step.whenExists;
      }
      if (args.length === 0) continue;
      if (step.manifest && dir) {
        const file = join(dir, `${step.manifest.metadata.name}.yaml`);
        writeFileSync(file, renderObjects([step.manifest]));
        args = args.map((a) => (a === '{file}' ? file : a));
      }
      const r = run(tool, args, { inherit: true });
      if (r.code !== 0) return r.code;
    }
    return 0;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
