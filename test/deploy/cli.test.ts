import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../shared/deploy/kubectl.js';
import { changedValues, cli, shippedServices, editedValues, fitterPath, shippedValuesPath } from './support.js';

/**
 * The CLI as a user runs it (node bin/image-api.js → dist/). Cluster commands run against fake kubectl
 * and kn scripts that log their arguments, so the exact commands are checked without a cluster.
 */
const tmp = mkdtempSync(join(tmpdir(), 'image-api-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function valuesFile(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A folder holding a fake `kubectl` and `kn`: each logs "<tool> <args>" and answers like a cluster with Knative. */
function fakeTools(options: { unreachable?: boolean; diffExit?: number; existing?: boolean } = {}): { path: string; log: () => string[] } {
  const dir = mkdtempSync(join(tmp, 'bin-'));
  const log = join(dir, 'calls.log');
  const kubectl = `#!/bin/sh
echo "kubectl $*" >> "${log}"
case "$1" in
  api-versions)
    ${options.unreachable ? 'echo "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?" >&2; exit 1' : 'printf "v1\\nserving.knative.dev/v1\\neventing.knative.dev/v1\\n"'} ;;
  diff) exit ${options.diffExit ?? 0} ;;
esac
exit 0
`;
  const kn = `#!/bin/sh
echo "kn $*" >> "${log}"
if [ "$2" = describe ]; then exit ${options.existing ? 0 : 1}; fi
exit 0
`;
  writeFileSync(join(dir, 'kubectl'), kubectl);
  writeFileSync(join(dir, 'kn'), kn);
  chmodSync(join(dir, 'kubectl'), 0o755);
  chmodSync(join(dir, 'kn'), 0o755);
  return {
    path: dir,
    log: () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    },
  };
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('image-api generate', () => {
  it('writes the manifests and says where, and re-running writes the same bytes', () => {
    const out = join(tmp, 'gen');
    const r = cli(['generate', '--values', valuesFile('changed.yaml', changedValues()), '--out', out]);
    expect(r.stderr).toMatch(/validated against the Knative CRD schemas|CRD validation skipped/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('face-detector-face-fitter (face-detector-face-fitter, min-scale 3)');
    const files = readdirSync(out).sort();
    expect(files).toEqual(['00-namespace.yaml', '01-broker.yaml', ...shippedServices().map((s) => `${s}.yaml`)]);
    const first = files.map((f) => readFileSync(join(out, f)));
    expect(cli(['generate', '--values', join(tmp, 'changed.yaml'), '--out', out]).code).toBe(0);
    expect(files.map((f) => readFileSync(join(out, f)))).toEqual(first);
    expect(readFileSync(join(out, 'face-detector-face-fitter.yaml'), 'utf8')).toContain('autoscaling.knative.dev/min-scale: "3"');
  });

  it('--namespace overrides the values file', () => {
    const out = join(tmp, 'ns');
    expect(cli(['generate', '--values', shippedValuesPath, '--out', out, '--namespace', 'staging']).code).toBe(0);
    expect(readFileSync(join(out, 'verify-matcher.yaml'), 'utf8')).toContain('namespace: staging');
    const bad = cli(['generate', '--out', out, '--namespace', 'Not_A_Name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^image-api: --namespace: "Not_A_Name" is not a valid namespace name/);
  });

  const refusals: [string, [(string | number)[], unknown][], RegExp][] = [
    ['an unknown module', [[fitterPath('module'), 'nope']], /face-detector-face-fitter\.module: module "nope" .*valid modules: /],
    ['replicas: -1', [[fitterPath('replicas'), -1]], /face-detector-face-fitter\.replicas: Too small/],
    ['an unknown config parameter', [[fitterPath('configs', 0, 'params', 'min_sise'), 1]], /configs\[0\]\.params: unknown parameter "min_sise".*valid parameters: /],
    ['a value of the wrong type', [[fitterPath('replicas'), 'three']], /face-detector-face-fitter\.replicas: Invalid input: expected number, received string/],
  ];
  for (const [what, edits, message] of refusals) {
    it(`refuses ${what}: one line naming the file and YAML path, exit 1, no stack trace, nothing written`, () => {
      const out = join(tmp, `refused-${what.replace(/\W+/g, '-')}`);
      const file = valuesFile('bad.yaml', editedValues(edits));
      const r = cli(['generate', '--values', file, '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^image-api: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(r.stderr).toMatch(message);
      noStack(r.stderr);
      expect(() => readdirSync(out)).toThrow();
    });
  }

  it('usage errors exit 2 with the usage text', () => {
    const r = cli(['deploy']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "deploy"; valid: generate, install, uninstall, status, diff/);
    expect(cli(['generate', '--valuez', 'x']).code).toBe(2);
    expect(cli(['--help']).stdout).toMatch(/^usage: image-api <command>/);
  });
});

describe('image-api install / uninstall / status / diff', () => {
  it('install --dry-run prints the manifests (pipeable into kubectl apply -f -) and the command, touching nothing', () => {
    const out = join(tmp, 'dry');
    const tools = fakeTools();
    const r = cli(['install', '--dry-run', '--out', out], { PATH: tools.path });
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => ('toJS' in d ? (d.toJS() as { kind: string }) : undefined));
    expect(docs.map((d) => d?.kind)).toEqual(['Namespace', 'Broker', ...shippedServices().flatMap(() => ['Service', 'Trigger'])]);
    expect(r.stderr).toMatch(new RegExp(`dry run: would write ${shippedServices().length + 2} file\\(s\\) to \\S+ and run:\\n {2}kubectl apply -f \\S+00-namespace\\.yaml -f \\S+01-broker\\.yaml -f \\S+${shippedServices()[0]}\\.yaml`));
    expect(tools.log()).toEqual([]);
    expect(() => readdirSync(out)).toThrow();
  });

  it('install = generate + validate + kubectl apply; re-running is the same apply (idempotent)', () => {
    const out = join(tmp, 'inst');
    const tools = fakeTools();
    const first = cli(['install', '--out', out], { PATH: tools.path });
    expect(first.stderr).toContain('installed into namespace image-api');
    expect(first.code).toBe(0);
    const second = cli(['install', '--out', out], { PATH: tools.path });
    expect(second.code).toBe(0);
    const calls = tools.log();
    const apply = `kubectl apply ${['00-namespace', '01-broker', ...shippedServices()].map((f) => `-f ${join(out, `${f}.yaml`)}`).join(' ')}`;
    expect(calls).toEqual(['kubectl api-versions --request-timeout=15s', apply, 'kubectl api-versions --request-timeout=15s', apply]);
  });

  it('no reachable cluster, or no kubectl/kn at all: a clear message and exit 1', () => {
    const down = cli(['install', '--out', join(tmp, 'down')], { PATH: fakeTools({ unreachable: true }).path });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^image-api: no reachable Kubernetes cluster \(kubectl api-versions: The connection to the server .* was refused/m);
    noStack(down.stderr);
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const none = cli(['install', '--out', join(tmp, 'none')], { PATH: empty });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^image-api: neither kubectl nor kn was found on PATH/);
  });

  const kubectl = findExecutable('kubectl');
  it.skipIf(!kubectl)('with the real kubectl and an unreachable API server', () => {
    const kubeconfig = join(tmp, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
users: [{name: nobody, user: {}}]
current-context: nowhere
`,
    );
    const r = cli(['status'], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^image-api: no reachable Kubernetes cluster/);
    noStack(r.stderr);
  });

  it('uninstall deletes by label (namespace kept); --dry-run only prints', () => {
    const tools = fakeTools();
    const dry = cli(['uninstall', '--dry-run'], { PATH: tools.path });
    expect(dry.code).toBe(0);
    const del = 'kubectl delete services.serving.knative.dev,triggers.eventing.knative.dev,brokers.eventing.knative.dev -n image-api -l app.kubernetes.io/part-of=image-api --ignore-not-found';
    expect(dry.stdout.trim()).toBe(del);
    expect(tools.log()).toEqual([]);
    expect(cli(['uninstall'], { PATH: tools.path }).code).toBe(0);
    expect(tools.log()).toEqual(['kubectl api-versions --request-timeout=15s', del]);
  });

  it('status lists by label; diff passes kubectl diff through (1 = differences) without touching --out', () => {
    const tools = fakeTools({ diffExit: 1 });
    expect(cli(['status', '--namespace', 'staging'], { PATH: tools.path }).code).toBe(0);
    const out = join(tmp, 'diff-out');
    expect(cli(['diff', '--out', out], { PATH: tools.path }).code).toBe(1);
    const calls = tools.log();
    expect(calls[1]).toBe('kubectl get services.serving.knative.dev,triggers.eventing.knative.dev,brokers.eventing.knative.dev -n staging -l app.kubernetes.io/part-of=image-api');
    expect(calls[3]).toMatch(/^kubectl diff -f \S+\/00-namespace\.yaml -f /);
    expect(() => readdirSync(out)).toThrow();
  });

  it('kn when kubectl is absent: create what is missing, update what exists', () => {
    const fresh = fakeTools({ existing: false });
    rmSync(join(fresh.path, 'kubectl'));
    const r = cli(['install', '--out', join(tmp, 'kn')], { PATH: fresh.path });
    expect(r.code).toBe(0);
    const calls = fresh.log();
    expect(calls).toContain('kn broker create image-api -n image-api');
    expect(calls.some((c) => /^kn service apply verify-matcher -n image-api --filename \S+verify-matcher\.yaml$/.test(c))).toBe(true);
    expect(calls).toContain('kn trigger create verify-matcher-process --broker image-api --filter type=imageapi.verify-matcher.process --sink ksvc:verify-matcher -n image-api');

    const existing = fakeTools({ existing: true });
    rmSync(join(existing.path, 'kubectl'));
    expect(cli(['install', '--out', join(tmp, 'kn2')], { PATH: existing.path }).code).toBe(0);
    const again = existing.log();
    expect(again.some((c) => c.startsWith('kn broker create'))).toBe(false);
    expect(again).toContain('kn trigger update verify-matcher-process --filter type=imageapi.verify-matcher.process --sink ksvc:verify-matcher -n image-api');

    // uninstall deletes what exists and skips what does not (a missing resource is not a failure).
    expect(cli(['uninstall'], { PATH: existing.path }).code).toBe(0);
    expect(existing.log()).toContain('kn service delete verify-matcher -n image-api');
    const gone = fakeTools({ existing: false });
    rmSync(join(gone.path, 'kubectl'));
    expect(cli(['uninstall'], { PATH: gone.path }).code).toBe(0);
    expect(gone.log().some((c) => c.includes(' delete '))).toBe(false);
  });
});
