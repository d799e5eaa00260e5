/**
 * Container entry point: serves FUNCTION_TARGET (a module name, or `image-api` for all services) with
 * the request gate and graceful shutdown. Exits with a one-line message on a configuration error.
 */
import { ConfigError } from '../shared/config/config-object.js';
import { readRuntimeEnv } from '../shared/http/limits.js';
import { launch } from '../shared/http/launcher.js';
import { ModelFileError } from '../shared/models/manifest.js';

export async function main(target = process.env.FUNCTION_TARGET ?? 'image-api'): Promise<void> {
  try {
    process.env.FUNCTION_TARGET = target;
    const limits = readRuntimeEnv();
    const { registeredFunction } = await import('../shared/http/register.js');
    await import('./index.js');
    const fn = registeredFunction(target).build();
    await launch(target, limits, fn.ready, fn.close);
    // A model that cannot load is fatal at start-up: an orchestrator should see the crash, not a pod that never turns ready.
    await fn.ready;
    const failed = fn.endpoints.map((e) => e.health()).find((h) => h.status !== 200);
    if (failed) throw new ModelFileError(String(failed.body.error));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ModelFileError || (error instanceof Error && error.message.startsWith('env '))) {
      console.error(`image-api: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
