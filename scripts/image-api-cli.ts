/**
 * `npx image-api <command>`: values file → Knative manifests → cluster.
 *
 *   generate    write the manifests (validated) into --out (default knative/)
 *   install     generate + validate + kubectl apply (or kn); --dry-run prints instead
 *   uninstall   delete what install created (by label); --dry-run prints instead
 *   status      list the installed Services, Broker and Triggers
 *   diff        kubectl diff between the cluster and a fresh generation
 *
 * Expected failures (bad values, invalid manifests, no cluster) print one `image-api: …` message and
 * exit 1, without a stack trace; usage errors exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/config/config-object.js';
import { defaultValuesPath, loadValues, Values } from '../shared/config/values.js';
import { buildDeployment, renderFile, writeDeployment, type Deployment } from '../shared/deploy/knative-manifests.js';
import {
  checkCluster,
  chooseTool,
  ClusterError,
  describeStep,
  diffSteps,
  installSteps,
  runSteps,
  statusSteps,
  uninstallSteps,
  type Step,
  type Tool,
  type ToolKind,
} from '../shared/deploy/kubectl.js';
import { ManifestError, validateManifests, type ValidationReport } from '../shared/deploy/manifest-validation.js';
import { projectRoot } from '../shared/models/manifest.js';

const USAGE = `usage: image-api <command> [options]

commands:
  generate     write validated Knative manifests for the values file into --out
  install      generate, validate and apply them (kubectl apply, or kn when kubectl is absent)
  uninstall    delete the Services, Triggers and Broker that install created
  status       show them
  diff         kubectl diff between the cluster and a fresh generation (exit 1 = differences)

options:
  --values FILE       values file (default: cfg/image-api.values.yaml, or $IMAGE_API_VALUES)
  --out DIR           output folder (default: knative/ in the project)
  --namespace NS      deploy into NS instead of the values file's namespace
  --dry-run           install/uninstall: print what would be applied or deleted, touch nothing
  --tool kubectl|kn   force the cluster client (default: kubectl if on PATH, else kn)
  -h, --help          this text
`;

class UsageError extends Error {
  override name = 'UsageError';
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
/** Paths below the working directory print relative, others absolute. */
const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
};

interface Options {
  command: string;
  valuesFile: string;
  outDir: string;
  namespace?: string;
  dryRun: boolean;
  tool?: ToolKind;
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        values: { type: 'string' },
        out: { type: 'string' },
        namespace: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        tool: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const { values: o, positionals } = parsed;
  if (o.help || positionals[0] === 'help') return 'help';
  const command = positionals[0];
  if (!command) throw new UsageError('no command given');
  if (!['generate', 'install', 'uninstall', 'status', 'diff'].includes(command)) {
    throw new UsageError(`unknown command "${command}"; valid: generate, install, uninstall, status, diff`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  if (o['dry-run'] && !['install', 'uninstall'].includes(command)) throw new UsageError('--dry-run applies to install and uninstall');
  if (o.tool !== undefined && o.tool !== 'kubectl' && o.tool !== 'kn') throw new UsageError(`--tool: "${o.tool}"; valid: kubectl, kn`);
  return {
    command,
    valuesFile: resolve(o.values ?? defaultValuesPath()),
    outDir: resolve(o.out ?? join(projectRoot, 'knative')),
    namespace: o.namespace,
    dryRun: o['dry-run'] ?? false,
    tool: o.tool as ToolKind | undefined,
  };
}

/** Values → deployment, validated; throws ConfigError / ManifestError. */
function generate(options: Options): { deployment: Deployment; report: ValidationReport } {
  let values = loadValues(options.valuesFile);
  if (options.namespace !== undefined) {
    const ns = Values.shape.namespace.safeParse(options.namespace);
    if (!ns.success) throw new ConfigError(`--namespace: "${options.namespace}" is not a valid namespace name (lower-case letters, digits, "-")`);
    values = { ...values, namespace: ns.data };
  }
  let deployment: Deployment;
  try {
    deployment = buildDeployment(values);
  } catch (error) {
    // Name the file as parseValues does, so every values error reads "<file>: <yaml path>: …".
    if (error instanceof ConfigError) throw new ConfigError(`${options.valuesFile}: ${error.message}`);
    throw error;
  }
  const report = validateManifests(deployment.files.flatMap((f) => f.objects));
  if (report.issues.length > 0) {
    throw new ManifestError(`the generated manifests are invalid (${report.issues.length} problem(s)):\n${report.issues.map((i) => `  - ${i}`).join('\n')}`);
  }
  return { deployment, report };
}

function reportValidation(report: ValidationReport, io: Io, deployment: Deployment): void {
  for (const note of deployment.notes) io.err(`image-api: note: ${note}\n`);
  if (report.crdDir) io.err(`image-api: validated against the Knative CRD schemas in ${shown(report.crdDir)} and the admission-webhook rules\n`);
  if (report.note) io.err(`image-api: note: ${report.note}\n`);
}

function writeFiles(deployment: Deployment, outDir: string, io: Io): string[] {
  const { written, removed } = writeDeployment(deployment, outDir);
  for (const name of removed) io.err(`image-api: removed stale ${shown(join(outDir, name))}\n`);
  return written.map((name) => join(outDir, name));
}

function printSteps(tool: Tool, steps: Step[], io: Io, prefix = ''): void {
  for (const step of steps) io.out(`${prefix}${describeStep(tool, step)}\n`);
}

function dryRunTool(preferred: ToolKind | undefined): Tool {
  try {
    return chooseTool(preferred);
  } catch {
    return { kind: preferred ?? 'kubectl', path: preferred ?? 'kubectl' };
  }
}

export function run(argv: string[], io: Io = stdio): number {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    io.err(`image-api: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.out(USAGE);
    return 0;
  }
  try {
    return execute(options, io);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ManifestError || error instanceof ClusterError) {
      io.err(`image-api: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function execute(options: Options, io: Io): number {
  const { deployment, report } = generate(options);
  const services = deployment.services.map((s) => `${s.service} (${s.module}, min-scale ${s.replicas})`).join(', ');

  switch (options.command) {
    case 'generate': {
      const files = writeFiles(deployment, options.outDir, io);
      reportValidation(report, io, deployment);
      io.out(`generated ${files.length} file(s) in ${shown(options.outDir)} from ${shown(options.valuesFile)}, namespace ${deployment.namespace}: ${services}\n`);
      for (const file of files) io.out(`  ${shown(file)}\n`);
      return 0;
    }
    case 'install': {
      if (options.dryRun) {
        const tool = dryRunTool(options.tool);
        reportValidation(report, io, deployment);
        // stdout is the manifest stream (pipeable into `kubectl apply -f -`); the plan goes to stderr.
        io.out(deployment.files.map((f) => renderFile(f)).join('---\n'));
        const files = deployment.files.map((f) => join(options.outDir, f.name));
        io.err(`image-api: dry run: would write ${deployment.files.length} file(s) to ${shown(options.outDir)} and run:\n`);
        for (const step of installSteps(tool, deployment, files.map(shown))) io.err(`  ${describeStep(tool, step)}\n`);
        return 0;
      }
      const tool = chooseTool(options.tool);
      const files = writeFiles(deployment, options.outDir, io);
      reportValidation(report, io, deployment);
      checkCluster(tool, deployment.namespace, deployment.broker !== undefined);
      const code = runSteps(tool, installSteps(tool, deployment, files));
      if (code !== 0) throw new ClusterError(`${tool.kind} exited with ${code}; see its output above`);
      io.err(`image-api: installed into namespace ${deployment.namespace}: ${services}\nimage-api: follow progress with \`npx image-api status\`\n`);
      return 0;
    }
    case 'uninstall': {
      if (options.dryRun) {
        const tool = dryRunTool(options.tool);
        io.err(`image-api: dry run: would run:\n`);
        printSteps(tool, uninstallSteps(tool, deployment, { serving: true, eventing: deployment.broker !== undefined }), io);
        return 0;
      }
      const tool = chooseTool(options.tool);
      const apis = checkCluster(tool, deployment.namespace, false);
      const code = runSteps(tool, uninstallSteps(tool, deployment, apis));
      if (code !== 0) throw new ClusterError(`${tool.kind} exited with ${code}; see its output above`);
      io.err(`image-api: uninstalled from namespace ${deployment.namespace} (the namespace itself is kept)\n`);
      return 0;
    }
    case 'status': {
      const tool = chooseTool(options.tool);
      const apis = checkCluster(tool, deployment.namespace, false);
      return runSteps(tool, statusSteps(tool, deployment, apis));
    }
    case 'diff': {
      const tool = chooseTool(options.tool ?? 'kubectl');
      // Into a temporary folder: diff never changes the working tree.
      const dir = mkdtempSync(join(tmpdir(), 'image-api-diff-'));
      try {
        const files = writeDeployment(deployment, dir).written.map((name) => join(dir, name));
        checkCluster(tool, deployment.namespace, false);
        // kubectl diff: 0 = no differences, 1 = differences, >1 = error; passed through unchanged.
        return runSteps(tool, diffSteps(tool, files));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = run(process.argv.slice(2));
