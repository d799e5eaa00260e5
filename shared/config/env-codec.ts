import { Modules, isModuleName, ModuleNames, type ModuleName } from '../modules/catalogue.js';
import { ConfigError, parseScalar, RoleSchemas, Roles, type Role, type Scalar } from './config-object.js';
import type { ServiceConfig } from './service-config.js';

/**
 * The env scheme a function reads its configuration from (and the generator writes into a Knative
 * Service, so that `kn service update NAME --env KEY=VALUE` changes the same thing):
 *
 *   FUNCTION_TARGET=<module>                  the module (functions-framework's own variable)
 *   CAPTURER_CONFIG=<file.xml>                config object per role: CAPTURER_, RECOGNIZER_, LIVENESS_
 *   CAPTURER_MIN_SIZE=60                      one variable per overridden parameter: <ROLE>_<PARAM>
 *   QUALITY_THRESHOLD=30                      additional variables: the name upper-cased
 *
 * Only overrides are written; everything else comes from the config object files in the image.
 */
const roleKey = (role: Role) => role.toUpperCase();
const envName = (name: string) => name.toUpperCase();

export function serviceConfigToEnv(config: ServiceConfig): Record<string, string> {
  const env: Record<string, string> = { FUNCTION_TARGET: config.module };
  for (const role of Roles) {
    const c = config.configs[role];
    if (!c) continue;
    env[`${roleKey(role)}_CONFIG`] = c.name;
    for (const [k, v] of Object.entries(c.params)) env[`${roleKey(role)}_${envName(k)}`] = String(v);
  }
  for (const [k, v] of Object.entries(config.variables)) env[envName(k)] = String(v);
  return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/** The inverse of serviceConfigToEnv. Unknown `<ROLE>_…` variables are errors: a typo must not be ignored. */
export function serviceConfigFromEnv(env: NodeJS.ProcessEnv, module = env.FUNCTION_TARGET): ServiceConfig {
  if (!module || !isModuleName(module)) {
    throw new ConfigError(`FUNCTION_TARGET: "${module ?? ''}" is not a module; valid modules: ${ModuleNames.join(', ')}`);
  }
  const info = Modules[module as ModuleName];
  const configs: ServiceConfig['configs'] = {};
  for (const role of Roles) {
    const prefix = `${roleKey(role)}_`;
    const keys = Object.keys(env).filter((k) => k.startsWith(prefix));
    if (keys.length === 0) continue;
    if (!(role in info.configs)) {
      throw new ConfigError(`env ${keys[0]}: module ${module} takes no ${role} config (it takes: ${Object.keys(info.configs).join(', ') || 'none'})`);
    }
    const fallback = info.configs[role as keyof typeof info.configs] as string;
    const valid = Object.keys(RoleSchemas[role].shape);
    const params: Record<string, Scalar> = {};
    for (const key of keys) {
      if (key === `${prefix}CONFIG`) continue;
      const param = valid.find((p) => envName(p) === key.slice(prefix.length));
      if (!param) {
        throw new ConfigError(`env ${key}: unknown ${role} parameter; valid: ${valid.map((p) => prefix + envName(p)).join(', ')}, ${prefix}CONFIG`);
      }
      params[param] = parseScalar(env[key] ?? '');
    }
    configs[role] = { name: env[`${prefix}CONFIG`] ?? fallback, params };
  }
  const variables: Record<string, Scalar> = {};
  for (const name of Object.keys(info.variables.shape)) {
    const value = env[envName(name)];
    if (value !== undefined) variables[name] = parseScalar(value);
  }
  return { service: info.service, module: module as ModuleName, configs, variables };
}
