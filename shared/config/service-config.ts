import { z } from 'zod';
import { isModuleName, isServiceName, Modules, modulesOfService, ServiceNames, type ModuleName, type ServiceName } from '../modules/catalogue.js';
import { ConfigError, resolveConfigObject, Roles, type ConfigObject, type Role, type RoleParams, type Scalar } from './config-object.js';

/**
 * One service's configuration as the values file or the env states it: which module, which config
 * object per role with its overrides, and the additional variables. This is what travels (YAML → env →
 * function); `resolveServiceConfig` turns it into typed parameters.
 */
export interface ServiceConfig {
  service: ServiceName;
  module: ModuleName;
  configs: Partial<Record<Role, { name: string; params: Record<string, Scalar> }>>;
  variables: Record<string, Scalar>;
}

export interface ResolvedServiceConfig {
  service: ServiceName;
  module: ModuleName;
  capturer?: RoleParams['capturer'];
  recognizer?: RoleParams['recognizer'];
  liveness?: RoleParams['liveness'];
  /** Config object names per role, for logs and the health report. */
  configNames: Partial<Record<Role, string>>;
  variables: Record<string, Scalar>;
}

export function checkModule(service: string, module: string | undefined, where: string): { service: ServiceName; module: ModuleName } {
  if (!isServiceName(service)) throw new ConfigError(`${where}: unknown service "${service}"; valid services: ${ServiceNames.join(', ')}`);
  const valid = modulesOfService(service);
  if (valid.length === 0) throw new ConfigError(`${where}: service "${service}" is not implemented yet in this version`);
  const chosen = module ?? service;
  if (!isModuleName(chosen) || Modules[chosen].service !== service) {
    throw new ConfigError(`${where}.module: module "${chosen}" does not belong to service "${service}"; valid modules: ${valid.join(', ')}`);
  }
  return { service, module: chosen };
}

/** Validates and resolves; `where` is the YAML path or env source used in error messages. */
export function resolveServiceConfig(config: ServiceConfig, where: string): ResolvedServiceConfig {
  const info = Modules[config.module];
  const out: ResolvedServiceConfig = { service: config.service, module: config.module, configNames: {}, variables: {} };
  for (const role of Roles) {
    const given = config.configs[role];
    const fallback = info.configs[role as keyof typeof info.configs] as string | undefined;
    if (given && !fallback) {
      throw new ConfigError(`${where}.configs: module "${config.module}" takes no ${role} config object (it takes: ${Object.keys(info.configs).join(', ') || 'none'})`);
    }
    if (!fallback) continue;
    const object: ConfigObject = resolveConfigObject(given?.name ?? fallback, given?.params ?? {}, `${where}.configs[${given?.name ?? fallback}].params`);
    if (object.role !== role) throw new ConfigError(`${where}.configs: ${object.name} is a ${object.role} config, expected a ${role} config`);
    (out as unknown as Record<string, unknown>)[role] = object.params;
    out.configNames[role] = object.name;
  }
  const vars = info.variables.safeParse(config.variables);
  if (!vars.success) {
    const issue = vars.error.issues[0];
    const valid = Object.keys(info.variables.shape);
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    throw new ConfigError(
      `${where}.additional_variables: ${issue.code === 'unrecognized_keys' ? `unknown variable(s) ${keys}` : `${keys}: ${issue.message}`}; valid variables: ${valid.join(', ') || 'none'}`,
    );
  }
  out.variables = vars.data as Record<string, Scalar>;
  return out;
}

/** The config a service gets when the values file does not mention it. */
export function defaultServiceConfig(service: ServiceName): ServiceConfig {
  const { module } = checkModule(service, undefined, service);
  return { service, module, configs: {}, variables: {} };
}

export const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);
