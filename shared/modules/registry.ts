import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { ModuleFactory, ModuleRuntime } from './runtime.js';

/**
 * Module name → its pipeline in shared/modules/<module>.ts (each exports `create`), imported only when a
 * process serves that module.
 */
export async function createModule(config: ResolvedServiceConfig): Promise<ModuleRuntime> {
  const { create } = (await import(`./${config.module}.js`)) as { create: ModuleFactory };
  return create(config);
}
