import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { ModuleName } from './catalogue.js';
import type { ModuleFactory, ModuleRuntime } from './runtime.js';

/** Module name → its pipeline, imported only when a process serves that module. */
const loaders: Record<ModuleName, () => Promise<{ create: ModuleFactory }>> = {
  'face-detector-face-fitter': () => import('./face-detector-face-fitter.js'),
  'face-detector-template-extractor': () => import('./face-detector-template-extractor.js'),
  'verify-matcher': () => import('./verify-matcher.js'),
};

export async function createModule(config: ResolvedServiceConfig): Promise<ModuleRuntime> {
  const { create } = await loaders[config.module]();
  return create(config);
}
