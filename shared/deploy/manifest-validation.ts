import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../models/manifest.js';
import { KNATIVE_RESERVED_ENV, KNATIVE_RESERVED_PORTS } from './knative-manifests.js';

/**
 * Offline validation of generated manifests, in two layers:
 *  1. the CRDs' own OpenAPI schemas (`spec.versions[name=v1].schema.openAPIV3Schema`) with ajv, made
 *     strict: an object that the CRD does not mark x-kubernetes-preserve-unknown-fields gets
 *     additionalProperties: false, so a misspelt or feature-flagged-away field is an error here, not a
 *     field the API server silently prunes;
 *  2. the rules Knative's admission webhook enforces and the schemas do not encode (see the README
 *     beside the CRDs). These run even when the CRD folder is absent.
 */

export const CRD_DIR_ENV = 'IMAGE_API_KNATIVE_CRDS';

/** `<repo>/../shared/knative`, or the folder named by IMAGE_API_KNATIVE_CRDS. */
export function crdDirectory(): string {
  return resolve(process.env[CRD_DIR_ENV] ?? join(projectRoot, '..', 'shared', 'knative'));
}

export interface ValidationReport {
  /** One line per problem: "<Kind> <name>: <json path>: <message>". */
  issues: string[];
  /** Folder the CRDs were read from, or undefined when CRD validation was skipped. */
  crdDir: string | undefined;
  /** Set when something was skipped, for the user to read. */
  note?: string;
}

type Schema = { [key: string]: unknown };
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The API server validates ObjectMeta itself (CRDs only say `type: object`); the part a manifest may set. */
const OBJECT_META: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    namespace: { type: 'string', minLength: 1, maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** Unknown fields rejected wherever the CRD does not explicitly preserve them. */
function strictify(node: Schema, root: boolean): Schema {
  const out: Schema = { ...node };
  delete out.description; // smaller compiled code, and descriptions are not validation
  if (isRecord(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, root && k === 'metadata' ? OBJECT_META : strictify(v as Schema, false)]),
    );
  }
  if (isRecord(node.items)) out.items = strictify(node.items, false);
  if (isRecord(node.additionalProperties)) out.additionalProperties = strictify(node.additionalProperties, false);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(node[key])) out[key] = (node[key] as Schema[]).map((s) => strictify(s, false));
  }
  if (node.type === 'object' && node['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** x-kubernetes-list-type: set → unique items; map → unique by x-kubernetes-list-map-keys (e.g. env names). */
const listType: SchemaValidateFunction = function listTypeCheck(schema: unknown, data: unknown, parent?: Schema): boolean {
  if (!Array.isArray(data)) return true;
  let keyOf: ((item: unknown) => string) | undefined;
  if (schema === 'set') keyOf = (item) => JSON.stringify(item);
  if (schema === 'map') {
    const keys = (parent?.['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    keyOf = (item) => JSON.stringify(keys.map((k) => (isRecord(item) ? item[k] : undefined)));
  }
  if (!keyOf) return true;
  const seen = new Set<string>();
  for (const item of data) {
    const key = keyOf(item);
    if (seen.has(key)) {
      listType.errors = [{ keyword: 'x-kubernetes-list-type', message: `duplicate entry ${key} in a list of type ${String(schema)}`, params: {} }];
      return false;
    }
    seen.add(key);
  }
  return true;
};

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  for (const keyword of ['x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-map-type', 'x-kubernetes-list-map-keys']) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({ keyword: 'x-kubernetes-list-type', validate: listType, errors: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

const validatorCache = new Map<string, Map<string, ValidateFunction>>();

/** `<group>/<version>/<Kind>` → compiled validator, for every CRD file in `dir`. */
export function loadCrdValidators(dir: string): Map<string, ValidateFunction> {
  const cached = validatorCache.get(dir);
  if (cached) return cached;
  const ajv = newAjv();
  const validators = new Map<string, ValidateFunction>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const crd: unknown = 'toJS' in doc ? doc.toJS() : undefined;
      if (!isRecord(crd) || crd.kind !== 'CustomResourceDefinition' || !isRecord(crd.spec)) continue;
      const { group, names, versions } = crd.spec as { group?: string; names?: { kind?: string }; versions?: unknown[] };
      const v1 = (versions ?? []).find((v) => isRecord(v) && v.name === 'v1') as { schema?: { openAPIV3Schema?: Schema } } | undefined;
      const schema = v1?.schema?.openAPIV3Schema;
      if (!group || !names?.kind || !schema) continue;
      const strict = strictify(schema, true);
      // The API server checks apiVersion, kind and metadata itself; not every CRD lists them.
      strict.properties = {
        ...(strict.properties as Schema),
        apiVersion: { const: `${group}/v1` },
        kind: { const: names.kind },
        metadata: OBJECT_META,
      };
      strict.required = [...new Set([...((strict.required as string[] | undefined) ?? []), 'apiVersion', 'kind', 'metadata'])];
      validators.set(`${group}/v1/${names.kind}`, ajv.compile(strict));
    }
  }
  validatorCache.set(dir, validators);
  return validators;
}

function describeAjvError(e: ErrorObject): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'enum') return `${at}: ${e.message}: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message ?? e.keyword}`;
}

// ---------------------------------------------------------------------------------------------------------
// Admission-webhook rules (knative.dev/serving and eventing webhooks), as far as generated manifests use them.

const AUTOSCALING = 'autoscaling.knative.dev/';
const AUTOSCALING_KEYS = [
  'class',
  'metric',
  'target',
  'target-utilization-percentage',
  'min-scale',
  'max-scale',
  'initial-scale',
  'scale-down-delay',
  'window',
  'panic-window-percentage',
  'panic-threshold-percentage',
  'activation-scale',
  'target-burst-capacity',
  'scale-to-zero-pod-retention-period',
];
const AUTOSCALING_CLASSES = ['kpa.autoscaling.knative.dev', 'hpa.autoscaling.knative.dev'];
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_TIMEOUT_SECONDS = 600;
const MAX_CONTAINER_CONCURRENCY = 1000;

function stringMapIssues(map: unknown, at: string, out: string[]): void {
  if (map === undefined) return;
  if (!isRecord(map)) return void out.push(`${at}: must be a map of strings`);
  for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') out.push(`${at}/${k}: must be a string (got ${typeof v} ${JSON.stringify(v)})`);
}

const nonNegativeInt = (v: string) => /^\d+$/.test(v);

function autoscalingIssues(annotations: Record<string, unknown>, at: string, out: string[]): void {
  const get = (k: string) => annotations[AUTOSCALING + k];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(AUTOSCALING)) continue;
    const name = key.slice(AUTOSCALING.length);
    if (!AUTOSCALING_KEYS.includes(name)) out.push(`${at}/${key}: unknown autoscaling annotation; valid: ${AUTOSCALING_KEYS.join(', ')}`);
    if (typeof value !== 'string') out.push(`${at}/${key}: must be a string, e.g. "${String(value)}"`);
  }
  const cls = get('class') ?? AUTOSCALING_CLASSES[0];
  if (typeof cls === 'string' && !AUTOSCALING_CLASSES.includes(cls)) out.push(`${at}/${AUTOSCALING}class: "${cls}"; valid: ${AUTOSCALING_CLASSES.join(', ')}`);
  for (const k of ['min-scale', 'max-scale', 'initial-scale']) {
    const v = get(k);
    if (typeof v === 'string' && !nonNegativeInt(v)) out.push(`${at}/${AUTOSCALING}${k}: "${v}" must be a non-negative integer`);
  }
  const [min, max] = [get('min-scale'), get('max-scale')];
  if (typeof min === 'string' && typeof max === 'string' && nonNegativeInt(min) && nonNegativeInt(max) && Number(max) > 0 && Number(min) > Number(max)) {
    out.push(`${at}/${AUTOSCALING}min-scale: ${min} is above max-scale ${max}`);
  }
  const metric = get('metric');
  if (typeof metric === 'string' && cls === AUTOSCALING_CLASSES[0] && !['concurrency', 'rps'].includes(metric)) {
    out.push(`${at}/${AUTOSCALING}metric: "${metric}" is not a KPA metric; valid: concurrency, rps`);
  }
  if (cls === AUTOSCALING_CLASSES[1] && typeof min === 'string' && min === '0') out.push(`${at}/${AUTOSCALING}min-scale: the HPA class cannot scale to zero`);
  const target = get('target');
  if (typeof target === 'string' && !(Number(target) >= 0.01)) out.push(`${at}/${AUTOSCALING}target: "${target}" must be a number ≥ 0.01`);
  const utilisation = get('target-utilization-percentage');
  if (typeof utilisation === 'string' && !(Number(utilisation) >= 1 && Number(utilisation) <= 100)) {
    out.push(`${at}/${AUTOSCALING}target-utilization-percentage: "${utilisation}" must be within 1..100`);
  }
}

function serviceIssues(o: Record<string, unknown>, out: string[]): void {
  const meta = isRecord(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== 'string' || !DNS1035.test(meta.name) || meta.name.length > 63) {
    out.push(`/metadata/name: "${String(meta.name)}" must be a DNS-1035 label (a-z, 0-9, "-", starting with a letter, at most 63 characters)`);
  }
  stringMapIssues(meta.labels, '/metadata/labels', out);
  stringMapIssues(meta.annotations, '/metadata/annotations', out);
  for (const key of Object.keys(isRecord(meta.annotations) ? meta.annotations : {})) {
    if (key.startsWith(AUTOSCALING)) out.push(`/metadata/annotations/${key}: autoscaling annotations are only allowed on spec.template.metadata.annotations`);
  }
  const template = isRecord(o.spec) && isRecord(o.spec.template) ? o.spec.template : undefined;
  if (!template) return void out.push('/spec/template: required');
  const tmeta = isRecord(template.metadata) ? template.metadata : {};
  stringMapIssues(tmeta.labels, '/spec/template/metadata/labels', out);
  stringMapIssues(tmeta.annotations, '/spec/template/metadata/annotations', out);
  if (isRecord(tmeta.annotations)) autoscalingIssues(tmeta.annotations, '/spec/template/metadata/annotations', out);

  const spec = isRecord(template.spec) ? template.spec : {};
  const timeout = spec.timeoutSeconds;
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 0 && timeout <= MAX_TIMEOUT_SECONDS)) {
    out.push(`/spec/template/spec/timeoutSeconds: ${String(timeout)} must be an integer within 0..${MAX_TIMEOUT_SECONDS}`);
  }
  const cc = spec.containerConcurrency;
  if (cc !== undefined && !(typeof cc === 'number' && Number.isInteger(cc) && cc >= 0 && cc <= MAX_CONTAINER_CONCURRENCY)) {
    out.push(`/spec/template/spec/containerConcurrency: ${String(cc)} must be an integer within 0..${MAX_CONTAINER_CONCURRENCY}`);
  }
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) return void out.push('/spec/template/spec/containers: at least one container is required');
  const withPorts = containers.filter((c) => isRecord(c) && Array.isArray(c.ports) && c.ports.length > 0);
  if (containers.length > 1 && withPorts.length !== 1) out.push('/spec/template/spec/containers: exactly one container must declare a port');
  containers.forEach((c, i) => {
    const at = `/spec/template/spec/containers/${i}`;
    if (!isRecord(c)) return void out.push(`${at}: must be an object`);
    if (typeof c.image !== 'string' || c.image === '') out.push(`${at}/image: required`);
    const ports = Array.isArray(c.ports) ? c.ports : [];
    if (ports.length > 1) out.push(`${at}/ports: more than one port (Knative routes to exactly one)`);
    let containerPort: number | undefined;
    ports.forEach((p, j) => {
      if (!isRecord(p)) return;
      const port = p.containerPort;
      if (typeof port === 'number') containerPort = port;
      if (typeof port === 'number' && (KNATIVE_RESERVED_PORTS as readonly number[]).includes(port)) {
        out.push(`${at}/ports/${j}/containerPort: ${port} is reserved by Knative (${KNATIVE_RESERVED_PORTS.join(', ')})`);
      }
      if (typeof port === 'number' && !(port >= 1 && port <= 65535)) out.push(`${at}/ports/${j}/containerPort: ${port} is not a port number`);
      if (p.name !== undefined && !['', 'http1', 'h2c'].includes(String(p.name))) out.push(`${at}/ports/${j}/name: "${String(p.name)}"; valid: http1, h2c`);
      if (p.protocol !== undefined && p.protocol !== 'TCP') out.push(`${at}/ports/${j}/protocol: only TCP is supported`);
    });
    const env = Array.isArray(c.env) ? c.env : [];
    const names = new Set<string>();
    env.forEach((e, j) => {
      if (!isRecord(e) || typeof e.name !== 'string') return void out.push(`${at}/env/${j}/name: required`);
      if ((KNATIVE_RESERVED_ENV as readonly string[]).includes(e.name)) out.push(`${at}/env/${j}/name: ${e.name} is reserved by Knative (${KNATIVE_RESERVED_ENV.join(', ')})`);
      if (names.has(e.name)) out.push(`${at}/env/${j}/name: ${e.name} is set twice`);
      names.add(e.name);
      if (e.value !== undefined && e.valueFrom !== undefined) out.push(`${at}/env/${j}: value and valueFrom are exclusive`);
      if (e.value !== undefined && typeof e.value !== 'string') out.push(`${at}/env/${j}/value: must be a string`);
    });
    for (const probeName of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probe = c[probeName];
      if (!isRecord(probe)) continue;
      const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter((h) => probe[h] !== undefined);
      if (handlers.length > 1) out.push(`${at}/${probeName}: more than one handler (${handlers.join(', ')})`);
      const port = isRecord(probe.httpGet) ? probe.httpGet.port : isRecord(probe.tcpSocket) ? probe.tcpSocket.port : undefined;
      if (port !== undefined && port !== 0 && containerPort !== undefined && port !== containerPort) {
        out.push(`${at}/${probeName}: probe port ${String(port)} must be the container port ${containerPort} (or left out)`);
      }
    }
  });
}

function triggerIssues(o: Record<string, unknown>, out: string[]): void {
  const spec = isRecord(o.spec) ? o.spec : {};
  if (typeof spec.broker !== 'string' || spec.broker === '') out.push('/spec/broker: required');
  const subscriber = isRecord(spec.subscriber) ? spec.subscriber : {};
  if (subscriber.ref === undefined && subscriber.uri === undefined) out.push('/spec/subscriber: needs ref or uri');
  const attributes = isRecord(spec.filter) ? spec.filter.attributes : undefined;
  stringMapIssues(attributes, '/spec/filter/attributes', out);
}

const ISO_DURATION = /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/;

function deliveryIssues(o: Record<string, unknown>, out: string[]): void {
  const delivery = isRecord(o.spec) && isRecord(o.spec.delivery) ? o.spec.delivery : undefined;
  if (delivery && typeof delivery.backoffDelay === 'string' && !ISO_DURATION.test(delivery.backoffDelay)) {
    out.push(`/spec/delivery/backoffDelay: "${delivery.backoffDelay}" is not an ISO-8601 duration (e.g. PT0.5S)`);
  }
}

/** The webhook rules for one object: lines "<json path>: <message>". */
export function webhookIssues(o: unknown): string[] {
  const out: string[] = [];
  if (!isRecord(o)) return ['/: not an object'];
  const meta = isRecord(o.metadata) ? o.metadata : {};
  if (o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1') serviceIssues(o, out);
  if (o.kind === 'Trigger') triggerIssues(o, out);
  if (o.kind === 'Trigger' || o.kind === 'Broker') deliveryIssues(o, out);
  if (o.kind !== 'Service' && (typeof meta.name !== 'string' || !DNS1123.test(meta.name) || meta.name.length > 63)) {
    out.push(`/metadata/name: "${String(meta.name)}" must be a DNS-1123 label`);
  }
  if (o.kind !== 'Namespace' && meta.namespace !== undefined && (typeof meta.namespace !== 'string' || !DNS1123.test(meta.namespace))) {
    out.push(`/metadata/namespace: "${String(meta.namespace)}" must be a DNS-1123 label`);
  }
  return out;
}

/** Core kinds the generator writes besides the CRDs' (checked by a schema of their own). */
const CORE_SCHEMAS: Record<string, Schema> = {
  'v1/Namespace': {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata'],
    properties: { apiVersion: { const: 'v1' }, kind: { const: 'Namespace' }, metadata: OBJECT_META },
  },
};
let coreValidators: Map<string, ValidateFunction> | undefined;

/** Validates objects against the CRDs (when the folder exists) and the webhook rules. */
export function validateManifests(objects: unknown[], crdDir: string | null = crdDirectory()): ValidationReport {
  const issues: string[] = [];
  let validators: Map<string, ValidateFunction> | undefined;
  let note: string | undefined;
  if (crdDir && existsSync(crdDir)) validators = loadCrdValidators(crdDir);
  else note = `Knative CRD schemas not found${crdDir ? ` in ${crdDir}` : ''} (set ${CRD_DIR_ENV} to their folder): CRD validation skipped; the admission-webhook rules were checked`;
  if (!coreValidators) {
    const ajv = newAjv();
    coreValidators = new Map(Object.entries(CORE_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));
  }
  for (const o of objects) {
    const rec = isRecord(o) ? o : {};
    const name = `${String(rec.kind)} ${isRecord(rec.metadata) ? String(rec.metadata.name) : '?'}`;
    const key = `${String(rec.apiVersion)}/${String(rec.kind)}`;
    const validate = coreValidators.get(key) ?? validators?.get(key);
    if (validate) {
      if (!validate(o)) for (const e of validate.errors ?? []) issues.push(`${name}: ${describeAjvError(e)}`);
    } else if (validators) {
      issues.push(`${name}: no CRD schema for ${key} in ${crdDir}`);
    }
    for (const line of webhookIssues(o)) issues.push(`${name}: ${line}`);
  }
  return { issues, crdDir: validators ? (crdDir ?? undefined) : undefined, note };
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}
