import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseValues } from '../../shared/config/values.js';
import { buildDeployment, type Deployment, type K8sObject } from '../../shared/deploy/knative-manifests.js';
import { projectRoot } from '../../shared/models/manifest.js';

export const shippedValuesPath = join(projectRoot, 'cfg', 'image-api.values.yaml');
export const shippedValues = () => readFileSync(shippedValuesPath, 'utf8');
/** The services the shipped values file lists, sorted as the generator writes them. */
export const shippedServices = () => Object.keys(parseValues(shippedValues(), 'values.yaml').processing.services).sort();

/** The shipped values with edits at YAML paths (comments and the rest kept), e.g. [['processing', …, 'replicas'], 3]. */
export function editedValues(edits: [(string | number)[], unknown][], text = shippedValues()): string {
  const doc = parseDocument(text);
  for (const [path, value] of edits) doc.setIn(path, value);
  return doc.toString();
}

const FITTER = ['processing', 'services', 'face-detector-face-fitter'];
/** The "changed values": the fitter at replicas 3 with CAPTURER min_size 60. */
export const changedValues = () =>
  editedValues([
    [[...FITTER, 'replicas'], 3],
    [[...FITTER, 'configs', 0, 'params', 'min_size'], 60],
  ]);
export const fitterPath = (...rest: (string | number)[]) => [...FITTER, ...rest];

export const deploymentOf = (yaml: string): Deployment => buildDeployment(parseValues(yaml, 'values.yaml'));
export const allObjects = (d: Deployment): K8sObject[] => d.files.flatMap((f) => f.objects);

export function knService(d: Deployment, service: string): K8sObject {
  const o = allObjects(d).find((x) => x.kind === 'Service' && x.metadata.name === service);
  if (!o) throw new Error(`no Knative Service ${service}`);
  return o;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface ServiceSpec {
  template: {
    metadata: { annotations: Record<string, string>; labels: Record<string, string> };
    spec: { containerConcurrency: number; timeoutSeconds: number; nodeSelector?: Record<string, string>; containers: { env: EnvVar[]; resources?: unknown; image: string }[] };
  };
}
export const specOf = (o: K8sObject) => o.spec as unknown as ServiceSpec;

/**
 * The env a container of this Service gets: every `value` entry. The only other entry is API_TOKEN from an
 * optional Secret, which is unset when (as here) no such Secret exists.
 */
export function containerEnvOf(o: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of specOf(o).template.spec.containers[0].env) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** What `kn service update NAME --env KEY=VALUE` does to a Service: the container's env entry set or added. */
export function knEnvUpdate(o: K8sObject, key: string, value: string): K8sObject {
  const copy = structuredClone(o);
  const env = specOf(copy).template.spec.containers[0].env;
  const entry = env.find((e) => e.name === key);
  if (entry) entry.value = value;
  else env.push({ name: key, value });
  return copy;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it (bin shim → dist/), with extra env. */
export function cli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(projectRoot, 'bin', 'image-api.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
