import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config/config-object.js';
import { serviceConfigFromEnv, serviceConfigToEnv } from '../../shared/config/env-codec.js';
import { parseValues, servicesFromValues } from '../../shared/config/values.js';
import {
  buildDeployment,
  containerEnv,
  GENERATED_MARKER,
  renderFile,
  writeDeployment,
  type K8sObject,
} from '../../shared/deploy/knative-manifests.js';
import { crdDirectory, validateManifests, webhookIssues } from '../../shared/deploy/manifest-validation.js';
import { projectRoot } from '../../shared/models/manifest.js';
import { allObjects, shippedServices, changedValues, containerEnvOf, deploymentOf, editedValues, fitterPath, knService, shippedValues, specOf } from './support.js';

const haveCrds = existsSync(crdDirectory());
const tmp = mkdtempSync(join(tmpdir(), 'image-api-gen-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectValid(objects: K8sObject[]): void {
  const report = validateManifests(objects);
  expect(report.issues).toEqual([]);
  if (haveCrds) expect(report.crdDir).toBe(crdDirectory());
}

describe('generated manifests validate against the Knative CRDs and the webhook rules', () => {
  it.skipIf(!haveCrds)('finds the CRD schemas beside the repo (../shared/knative)', () => {
    expect(crdDirectory()).toBe(join(projectRoot, '..', 'shared', 'knative'));
  });

  for (const [label, yaml] of [
    ['shipped values', shippedValues],
    ['changed values (replicas 3, min_size 60)', changedValues],
  ] as const) {
    it(`${label}: every manifest is valid`, () => {
      const d = deploymentOf(yaml());
      const kinds = allObjects(d).map((o) => o.kind);
      expect(kinds.filter((k) => k === 'Service')).toHaveLength(shippedServices().length);
      expect(kinds.filter((k) => k === 'Trigger')).toHaveLength(shippedServices().length);
      expect(kinds.filter((k) => k === 'Broker')).toHaveLength(1);
      expectValid(allObjects(d));
    });
  }

  it('each switch of the values file still gives valid manifests', () => {
    const p = (k: string) => ['processing', k];
    const variants = [
      [[p('enable_hpa'), false]],
      [[p('enable_resource_management'), false]],
      [[p('enable_node_selector'), true], [p('node_selector'), { 'kubernetes.io/arch': 'amd64' }]],
      [[p('enable_ingress'), false]],
      [[p('enable_eventing'), false]],
      [[p('autoscaling_class'), 'hpa']],
      [[p('api_token_secret'), null]],
      [[fitterPath('container_concurrency'), 0], [fitterPath('replicas'), 0], [fitterPath('max_replicas'), 0]],
      [[fitterPath('container_concurrency'), 1000], [fitterPath('timeout_seconds'), 600], [fitterPath('port'), 9000]],
    ] as [(string | number)[], unknown][][];
    for (const edits of variants) {
      const d = deploymentOf(editedValues(edits));
      expectValid(allObjects(d));
    }
  });
});

describe('what the manifests say', () => {
  const shipped = deploymentOf(shippedValues());
  const changed = deploymentOf(changedValues());

  it('replicas → autoscaling.knative.dev/min-scale as a string, on spec.template.metadata only', () => {
    for (const [d, replicas] of [
      [shipped, 1],
      [changed, 3],
    ] as const) {
      const svc = knService(d, 'face-detector-face-fitter');
      const annotations = specOf(svc).template.metadata.annotations;
      expect(annotations['autoscaling.knative.dev/min-scale']).toBe(String(replicas));
      expect(typeof annotations['autoscaling.knative.dev/min-scale']).toBe('string');
      expect(Number(annotations['autoscaling.knative.dev/max-scale'])).toBeGreaterThanOrEqual(replicas);
      expect(svc.metadata.annotations).toBeUndefined();
      expect(renderFile(d.files.find((f) => f.name === 'face-detector-face-fitter.yaml')!)).toContain(`autoscaling.knative.dev/min-scale: "${replicas}"`);
    }
    // Autoscaling off: exactly `replicas` pods.
    const fixed = specOf(knService(deploymentOf(editedValues([[['processing', 'enable_hpa'], false]])), 'verify-matcher')).template.metadata.annotations;
    expect(fixed['autoscaling.knative.dev/min-scale']).toBe('1');
    expect(fixed['autoscaling.knative.dev/max-scale']).toBe('1');
    expect(fixed['autoscaling.knative.dev/class']).toBeUndefined();
  });

  it('params overrides travel in env, in the codec scheme, and read back as the configured service', () => {
    const env = containerEnvOf(knService(changed, 'face-detector-face-fitter'));
    expect(env).toMatchObject({ FUNCTION_TARGET: 'face-detector-face-fitter', CAPTURER_CONFIG: 'common_capturer_uld_fda.xml', CAPTURER_MIN_SIZE: '60' });
    expect(containerEnvOf(knService(shipped, 'face-detector-face-fitter')).CAPTURER_MIN_SIZE).toBe('20');
    const configs = servicesFromValues(parseValues(changedValues(), 'v.yaml'));
    for (const [service, config] of configs) {
      const manifestEnv = containerEnvOf(knService(changed, service));
      expect(manifestEnv).toMatchObject(serviceConfigToEnv(config));
      expect(serviceConfigFromEnv(manifestEnv, config.module)).toEqual(config);
    }
  });

  it('module worker threads follow the pod CPU: none for one CPU, one per CPU from two', () => {
    expect(containerEnvOf(knService(deploymentOf(shippedValues()), 'face-detector-face-fitter')).MODULE_WORKERS).toBe('0');
    const twoCpus = deploymentOf(editedValues([[fitterPath('resources'), { requests: { cpu: '1500m' }, limits: { cpu: '2' } }]]));
    expect(containerEnvOf(knService(twoCpus, 'face-detector-face-fitter')).MODULE_WORKERS).toBe('2');
    const override = deploymentOf(editedValues([[fitterPath('env'), { MODULE_WORKERS: '3' }]]));
    expect(containerEnvOf(knService(override, 'face-detector-face-fitter')).MODULE_WORKERS).toBe('3');
  });

  it('the block env is added, API_TOKEN comes from an optional Secret, image and pull policy from the values', () => {
    const d = deploymentOf(editedValues([[fitterPath('env'), { ORT_INTRA_OP_THREADS: '1' }]]));
    const svc = knService(d, 'face-detector-face-fitter');
    const container = specOf(svc).template.spec.containers[0] as unknown as Record<string, unknown> & { env: { name: string; valueFrom?: unknown }[] };
    expect(containerEnvOf(svc).ORT_INTRA_OP_THREADS).toBe('1');
    expect(container.env.find((e) => e.name === 'API_TOKEN')?.valueFrom).toEqual({ secretKeyRef: { name: 'image-api-auth', key: 'api-token', optional: true } });
    expect(container.image).toBe('image-api:0.1.0');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/health' } });
    expect(container.ports).toEqual([{ name: 'http1', containerPort: 8080 }]);
  });

  it("the function's own queue holds whatever containerConcurrency lets through", () => {
    for (const cc of [1, 2, 3, 4, 10, 100, 1000]) {
      const d = deploymentOf(editedValues([[fitterPath('container_concurrency'), cc]]));
      const svc = knService(d, 'face-detector-face-fitter');
      const env = containerEnvOf(svc);
      expect(specOf(svc).template.spec.containerConcurrency).toBe(cc);
      expect(Number(env.MAX_CONCURRENT_REQUESTS)).toBeLessThanOrEqual(cc);
      expect(Number(env.MAX_CONCURRENT_REQUESTS) + Number(env.MAX_QUEUED_REQUESTS)).toBeGreaterThanOrEqual(cc);
      expect(Number(env.REQUEST_TIMEOUT_MS)).toBeLessThan(specOf(svc).template.spec.timeoutSeconds * 1000);
    }
  });

  it('resources only with enable_resource_management, nodeSelector only with enable_node_selector', () => {
    expect(specOf(knService(shipped, 'verify-matcher')).template.spec.containers[0].resources).toBeDefined();
    expect(specOf(knService(shipped, 'verify-matcher')).template.spec.nodeSelector).toBeUndefined();
    const off = deploymentOf(editedValues([[['processing', 'enable_resource_management'], false]]));
    expect(specOf(knService(off, 'verify-matcher')).template.spec.containers[0].resources).toBeUndefined();
    const sel = deploymentOf(
      editedValues([
        [['processing', 'enable_node_selector'], true],
        [['processing', 'node_selector'], { pool: 'cpu' }],
        [fitterPath('node_selector'), { 'kubernetes.io/arch': 'amd64' }],
      ]),
    );
    expect(specOf(knService(sel, 'face-detector-face-fitter')).template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64', pool: 'cpu' });
    expect(specOf(knService(sel, 'verify-matcher')).template.spec.nodeSelector).toEqual({ pool: 'cpu' });
  });

  it('a Broker and one Trigger per service, filtering on imageapi.<service>.process, delivering to the Service', () => {
    const triggers = allObjects(shipped).filter((o) => o.kind === 'Trigger');
    expect(triggers.map((t) => t.spec)).toEqual(
      shippedServices().map((s) => ({
        broker: 'image-api',
        filter: { attributes: { type: `imageapi.${s}.process` } },
        subscriber: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: s } },
      })),
    );
    expect(allObjects(shipped).find((o) => o.kind === 'Broker')?.metadata).toMatchObject({ name: 'image-api', namespace: 'image-api' });
  });
});

describe('deterministic output', () => {
  it('the same values give byte-identical files, whatever the order of the values file', () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    writeDeployment(deploymentOf(changedValues()), a);
    // Same content, services listed in reverse order.
    const values = parseValues(changedValues(), 'v.yaml');
    const reversed = { ...values, processing: { ...values.processing, services: Object.fromEntries(Object.entries(values.processing.services).reverse()) } };
    writeDeployment(buildDeployment(reversed), b);
    const names = readdirSync(a).sort();
    expect(readdirSync(b).sort()).toEqual(names);
    for (const n of names) expect(readFileSync(join(b, n))).toEqual(readFileSync(join(a, n)));
    const again = deploymentOf(changedValues()).files.map(renderFile);
    expect(again).toEqual(names.map((n) => readFileSync(join(a, n), 'utf8')));
  });

  it('the committed knative/ files equal a fresh generation of the shipped values', () => {
    const fresh = deploymentOf(shippedValues());
    const dir = join(projectRoot, 'knative');
    const committed = readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort();
    expect(committed, 'run `npm run generate` and commit knative/').toEqual(fresh.files.map((f) => f.name).sort());
    for (const file of fresh.files) expect(readFileSync(join(dir, file.name), 'utf8'), `knative/${file.name} is stale: run \`npm run generate\``).toBe(renderFile(file));
  });

  it('regenerating removes generated files of services no longer listed, and nothing else', () => {
    const out = join(tmp, 'stale');
    writeDeployment(deploymentOf(shippedValues()), out);
    writeFileSync(join(out, 'retired-service.yaml'), `${GENERATED_MARKER} from an older values file\n`);
    writeFileSync(join(out, 'my-notes.yaml'), 'kept: true\n');
    const { removed } = writeDeployment(deploymentOf(shippedValues()), out);
    expect(removed).toEqual(['retired-service.yaml']);
    expect(existsSync(join(out, 'my-notes.yaml'))).toBe(true);
  });
});

describe('invalid values are refused with the YAML path and the valid choices', () => {
  const refuse = (yaml: string) => {
    try {
      buildDeployment(parseValues(yaml, 'v.yaml'));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      return message;
    }
    throw new Error('accepted');
  };

  it('unknown module', () => {
    const m = refuse(editedValues([[fitterPath('module'), 'face-fitter-x']]));
    expect(m).toMatch(/processing\.services\.face-detector-face-fitter\.module: .*"face-fitter-x".*valid modules: face-detector-face-fitter/);
  });
  it('replicas: -1', () => {
    expect(refuse(editedValues([[fitterPath('replicas'), -1]]))).toMatch(/processing\.services\.face-detector-face-fitter\.replicas: .*>=0/);
  });
  it('unknown config file or parameter', () => {
    expect(refuse(editedValues([[fitterPath('configs', 0, 'params', 'min_sise'), 20]]))).toMatch(
      /processing\.services\.face-detector-face-fitter\.configs\[0\]\.params: unknown parameter "min_sise".*valid parameters: .*min_size/,
    );
    expect(refuse(editedValues([[fitterPath('configs', 0, 'name'), 'common_capturer_xyz.xml']]))).toMatch(
      /processing\.services\.face-detector-face-fitter\.configs\[0\].*unknown config object "common_capturer_xyz\.xml"; valid names: .*common_capturer_uld_fda\.xml/,
    );
  });
  it('wrong type', () => {
    expect(refuse(editedValues([[fitterPath('replicas'), 'three']]))).toMatch(/face-detector-face-fitter\.replicas: .*expected number/);
    expect(refuse(editedValues([[fitterPath('configs', 0, 'params', 'min_size'), 'big']]))).toMatch(/configs\[0\]\.params: parameter "min_size"/);
    expect(refuse(editedValues([[['image_pull_policy'], 'Sometimes']]))).toMatch(/image_pull_policy: .*"Always"\|"IfNotPresent"\|"Never"/);
  });
  it('deployment settings Knative or the function would refuse', () => {
    expect(refuse(editedValues([[fitterPath('env'), { PORT: '9000' }]]))).toMatch(/face-detector-face-fitter\.env\.PORT: reserved by Knative/);
    expect(refuse(editedValues([[fitterPath('env'), { CAPTURER_MIN_SIZE: '9' }]]))).toMatch(/env\.CAPTURER_MIN_SIZE: part of the config env scheme/);
    expect(refuse(editedValues([[fitterPath('env'), { MAX_QUEUED_REQUESTS: '0' }]]))).toMatch(/below container_concurrency 4/);
    expect(refuse(editedValues([[fitterPath('port'), 8012]]))).toMatch(/face-detector-face-fitter\.port: 8012 is reserved by Knative/);
    expect(refuse(editedValues([[fitterPath('timeout_seconds'), 601]]))).toMatch(/timeout_seconds: .*<=600/);
    expect(refuse(editedValues([[fitterPath('container_concurrency'), 1001]]))).toMatch(/container_concurrency: .*<=1000/);
    expect(refuse(editedValues([[fitterPath('max_replicas'), 2], [fitterPath('replicas'), 3]]))).toMatch(/max_replicas: 2 is below replicas \(3\)/);
    expect(refuse(editedValues([[fitterPath('resources'), { requests: { memory: 'lots' } }]]))).toMatch(/resources\.requests\.memory: "lots" is not a Kubernetes quantity/);
    expect(refuse(editedValues([[fitterPath('resources'), { requests: { memory: '2Gi' } }]]))).toMatch(/resources\.requests\.memory: 2Gi exceeds the limit 1Gi/);
    expect(refuse(editedValues([[['processing', 'enable_node_selector'], true]]))).toMatch(/enable_node_selector: true, but neither/);
  });
  it('containerEnv refuses a block env that would not read back as the service', () => {
    const [config] = servicesFromValues(parseValues(shippedValues(), 'v.yaml')).values();
    const block = parseValues(shippedValues(), 'v.yaml').processing.services[config.service];
    expect(() => containerEnv(config, { ...block, env: { FUNCTION_TARGET: 'verify-matcher' } }, 'x')).toThrow(/x\.env\.FUNCTION_TARGET/);
    expect(() => containerEnv(config, { ...block, env: { API_TOKEN: 's' } }, 'x')).toThrow(/Secret/);
  });
});

// Manifests mutated freely to break one rule at a time: deliberately untyped inside this test only.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mutable = Record<string, any>;

describe('the validator itself catches what a cluster would refuse', () => {
  const base = () => structuredClone(knService(deploymentOf(shippedValues()), 'face-detector-face-fitter')) as unknown as Mutable;
  const issuesOf = (o: unknown) => validateManifests([o]).issues.join('\n');

  it.skipIf(!haveCrds)('CRD schema: unknown or misplaced fields, wrong types', () => {
    const a = base();
    a.spec.template.spec.containers[0].livenesProbe = { httpGet: { path: '/health' } };
    expect(issuesOf(a)).toMatch(/containers\/0: unknown field "livenesProbe"/);
    const b = base();
    b.spec.template.spec.containerConcurrency = '4';
    expect(issuesOf(b)).toMatch(/containerConcurrency: must be integer/);
    const c = base();
    c.spec.replicas = 3;
    expect(issuesOf(c)).toMatch(/\/spec: unknown field "replicas"/);
    const d = base();
    d.spec.template.spec.containers[0].env.push({ name: 'FUNCTION_TARGET', value: 'x' });
    expect(issuesOf(d)).toMatch(/duplicate entry/);
    const broker = structuredClone(allObjects(deploymentOf(shippedValues())).find((o) => o.kind === 'Broker')) as unknown as Mutable;
    broker.spec.retries = 3;
    expect(issuesOf(broker)).toMatch(/Broker image-api: \/spec: unknown field "retries"/);
  });

  it('webhook rules (checked with or without the CRD folder)', () => {
    const cases: [(o: Mutable) => void, RegExp][] = [
      [(o) => (o.metadata.annotations = { 'autoscaling.knative.dev/min-scale': '1' }), /only allowed on spec\.template\.metadata\.annotations/],
      [(o) => (o.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'] = 1), /min-scale: must be a string/],
      [(o) => (o.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'] = '20'), /min-scale: 20 is above max-scale 10/],
      [(o) => (o.spec.template.metadata.annotations['autoscaling.knative.dev/minScale'] = '1'), /unknown autoscaling annotation/],
      [(o) => o.spec.template.spec.containers[0].ports.push({ containerPort: 8081 }), /more than one port/],
      [(o) => (o.spec.template.spec.containers[0].ports[0].containerPort = 9091), /9091 is reserved by Knative/],
      [(o) => o.spec.template.spec.containers[0].env.push({ name: 'K_SERVICE', value: 'x' }), /K_SERVICE is reserved by Knative/],
      [(o) => (o.spec.template.spec.timeoutSeconds = 601), /timeoutSeconds: 601 must be an integer within 0\.\.600/],
      [(o) => (o.spec.template.spec.containerConcurrency = 1001), /containerConcurrency: 1001 must be an integer within 0\.\.1000/],
      [(o) => (o.spec.template.spec.containers[0].readinessProbe.httpGet.port = 9000), /probe port 9000 must be the container port 8080/],
    ];
    for (const [mutate, expected] of cases) {
      const o = base();
      mutate(o);
      expect(webhookIssues(o).join('\n')).toMatch(expected);
      // Without the CRD folder the webhook rules still run, and the skip is said.
      const report = validateManifests([o], join(tmp, 'no-such-folder'));
      expect(report.crdDir).toBeUndefined();
      expect(report.note).toMatch(/CRD validation skipped/);
      expect(report.issues.join('\n')).toMatch(expected);
    }
  });

  it('IMAGE_API_KNATIVE_CRDS overrides the CRD folder', () => {
    const before = process.env.IMAGE_API_KNATIVE_CRDS;
    process.env.IMAGE_API_KNATIVE_CRDS = join(tmp, 'elsewhere');
    try {
      expect(crdDirectory()).toBe(join(tmp, 'elsewhere'));
      expect(validateManifests(allObjects(deploymentOf(shippedValues()))).note).toContain(join(tmp, 'elsewhere'));
    } finally {
      if (before === undefined) delete process.env.IMAGE_API_KNATIVE_CRDS;
      else process.env.IMAGE_API_KNATIVE_CRDS = before;
    }
  });
});
