import * as functions from '@google-cloud/functions-framework';
import { ConfigError } from '../config/config-object.js';
import { serviceConfigFromEnv } from '../config/env-codec.js';
import { resolveServiceConfig } from '../config/service-config.js';
import { defaultValuesPath, loadValues, resolvedServicesFromValues } from '../config/values.js';
import type { ModuleName } from '../modules/catalogue.js';
import { createFunctionHandler, type FunctionHandler } from './function-handler.js';
import { readRuntimeEnv } from './limits.js';

export const ALL_IN_ONE = 'image-api';

/** A registered function whose models start loading as soon as it is built. */
export interface RegisteredFunction {
  name: string;
  build(): FunctionHandler;
}

const registered = new Map<string, RegisteredFunction>();

function register(name: string, make: () => FunctionHandler): RegisteredFunction {
  let built: FunctionHandler | undefined;
  const fn: RegisteredFunction = { name, build: () => (built ??= make()) };
  functions.http(name, (req, res) => fn.build().handler(req, res));
  registered.set(name, fn);
  // The target of this process loads its models now, so /health turns ready without a first request.
  if (process.env.FUNCTION_TARGET === name) fn.build();
  return fn;
}

/** One module as a function, configured from env (the scheme in shared/config/env-codec.ts). */
export function registerModule(module: ModuleName): RegisteredFunction {
  return register(module, () => {
    const config = resolveServiceConfig(serviceConfigFromEnv(process.env, module), 'env');
    return createFunctionHandler([config], readRuntimeEnv(), false);
  });
}

/** Every service of the values file in one process, each under `/{service}`. */
export function registerAllInOne(): RegisteredFunction {
  return register(ALL_IN_ONE, () => {
    const file = defaultValuesPath();
    return createFunctionHandler(resolvedServicesFromValues(loadValues(file)), readRuntimeEnv(), true);
  });
}

export function registeredFunction(name: string): RegisteredFunction {
  const fn = registered.get(name);
  if (!fn) throw new ConfigError(`FUNCTION_TARGET: no function "${name}"; valid: ${[...registered.keys()].join(', ')}`);
  return fn;
}
