import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { projectRoot } from '../models/manifest.js';
import { Modules, ServiceNames, type ServiceName } from '../modules/catalogue.js';
import { ConfigError, resolveConfigObject, type Role } from './config-object.js';
import { checkModule, resolveServiceConfig, ScalarSchema, type ResolvedServiceConfig, type ServiceConfig } from './service-config.js';

const Params = z.record(z.string(), ScalarSchema);

export const ServiceBlock = z.strictObject({
  module: z.string().optional(),
  /** Knative `autoscaling.knative.dev/min-scale`. */
  replicas: z.number().int().min(0).default(1),
  configs: z.array(z.strictObject({ name: z.string(), params: Params.nullish().transform((p) => p ?? {}) })).default([]),
  additional_variables: Params.nullish().transform((p) => p ?? {}),
  use_avx2: z.boolean().default(true),
  use_cuda: z.literal(false, { message: 'use_cuda: this build ships CPU inference only' }).default(false),
  /** Knative containerConcurrency: requests one pod takes at once (0 = unlimited). */
  container_concurrency: z.number().int().min(0).max(1000).default(4),
  timeout_seconds: z.number().int().min(1).max(600).default(60),
  resources: z
    .strictObject({
      requests: z.strictObject({ cpu: z.string(), memory: z.string() }).partial().optional(),
      limits: z.strictObject({ cpu: z.string(), memory: z.string() }).partial().optional(),
    })
    .optional(),
  /** Extra env for the container (ours), e.g. ORT_INTRA_OP_THREADS. */
  env: z.record(z.string(), z.string()).default({}),
  // The fields below are read by the Knative generator (shared/deploy/) only.
  /** The container's one port (Knative sets PORT to it). */
  port: z.number().int().min(1).max(65535).default(8080),
  /** Knative `autoscaling.knative.dev/max-scale` when processing.enable_hpa (0 = no upper bound); default max(replicas, 10). */
  max_replicas: z.number().int().min(0).optional(),
  /** Merged over processing.node_selector when processing.enable_node_selector. */
  node_selector: z.record(z.string(), z.string()).optional(),
});
export type ServiceBlock = z.infer<typeof ServiceBlock>;

export const Values = z.strictObject({
  /** Container image every function runs (ours; one image, the module picked by FUNCTION_TARGET). */
  image: z.string().default('image-api:0.1.0'),
  image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).default('image-api'),
  processing: z.strictObject({
    enable_ingress: z.boolean().default(true),
    enable_hpa: z.boolean().default(true),
    enable_resource_management: z.boolean().default(true),
    enable_node_selector: z.boolean().default(false),
    node_selector: z.record(z.string(), z.string()).default({}),
    broker: z.string().default('image-api'),
    // Read by the Knative generator (shared/deploy/) only.
    /** Knative autoscaler when enable_hpa: `kpa` (built in, scales on concurrency) or `hpa` (the serving-hpa extension, CPU). */
    autoscaling_class: z.enum(['kpa', 'hpa']).default('kpa'),
    /** Generate the Broker and one Trigger per service (needs Knative Eventing on the cluster). */
    enable_eventing: z.boolean().default(true),
    /** Secret whose key becomes API_TOKEN (optional: absent Secret = no auth); null = never set API_TOKEN. */
    api_token_secret: z
      .strictObject({ name: z.string().min(1), key: z.string().min(1) })
      .nullable()
      .default({ name: 'image-api-auth', key: 'api-token' }),
    services: z.record(z.string(), ServiceBlock.nullish().transform((b) => b ?? ServiceBlock.parse({}))),
  }),
});
export type Values = z.infer<typeof Values>;

export const defaultValuesPath = () => process.env.IMAGE_API_VALUES ?? join(projectRoot, 'cfg', 'image-api.values.yaml');

/** zod issue → "a.b.c: message" with the YAML path. */
function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue.path.join('.');
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') msg = `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_value' && 'values' in issue) msg = `${msg}`;
  return `${path || '(root)'}: ${msg}`;
}

export function parseValues(text: string, file: string): Values {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = Values.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: ${describe(parsed.error)}`);
  return parsed.data;
}

export function loadValues(file = defaultValuesPath()): Values {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`values file ${file} cannot be read`);
  }
  return parseValues(text, file);
}

/** One service block → the config that travels; every name, parameter and variable checked. */
export function serviceConfigFromBlock(service: string, block: ServiceBlock): ServiceConfig {
  const where = `processing.services.${service}`;
  const { service: s, module } = checkModule(service, block.module, where);
  const configs: ServiceConfig['configs'] = {};
  for (const [i, c] of block.configs.entries()) {
    const object = resolveConfigObject(c.name, c.params, `${where}.configs[${i}].params`);
    const role: Role = object.role;
    if (configs[role]) throw new ConfigError(`${where}.configs[${i}]: a second ${role} config object (${c.name}); give one per role`);
    configs[role] = { name: c.name, params: c.params };
  }
  const config: ServiceConfig = { service: s, module, configs, variables: block.additional_variables };
  resolveServiceConfig(config, where); // validates roles against the module and the variables
  return config;
}

export function servicesFromValues(values: Values): Map<ServiceName, ServiceConfig> {
  const out = new Map<ServiceName, ServiceConfig>();
  for (const [name, block] of Object.entries(values.processing.services)) {
    const config = serviceConfigFromBlock(name, block);
    out.set(config.service, config);
  }
  return out;
}

export function resolvedServicesFromValues(values: Values): ResolvedServiceConfig[] {
  return [...servicesFromValues(values).values()].map((c) => resolveServiceConfig(c, `processing.services.${c.service}`));
}

export const knownServices = () => ServiceNames.filter((s) => Object.values(Modules).some((m) => m.service === s));
