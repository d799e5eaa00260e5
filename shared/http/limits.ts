import { z } from 'zod';

const int = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

/**
 * Per-process limits, from env (docs/limits.md). Defaults fit a 512 MiB container running one function:
 * worst case measured ~460 MiB (emotion-estimator, the heaviest, with two requests at once, each a
 * near-limit body decoding to the pixel limit; ~225 MiB at rest).
 */
export const RuntimeEnv = z.object({
  PORT: int(8080, 0),
  /** MB; bodies over it get 413 before they are read in full. */
  MAX_BODY_SIZE: z.coerce.number().positive().default(10),
  /** Decoded width × height (4096 × 3072 by default: 12 MP phone photos fit); also the per-process budget of pixels in flight. */
  MAX_IMAGE_PIXELS: int(12_582_912, 1),
  /** Largest image accepted; between MAX_IMAGE_PIXELS and this, images are downscaled at decode. */
  MAX_INPUT_PIXELS: int(100_000_000, 1),
  MAX_OBJECTS: int(1000, 1),
  REQUEST_TIMEOUT_MS: int(30_000, 100),
  /** Requests processed at once; the rest wait in a bounded queue, beyond which 503 + Retry-After. */
  MAX_CONCURRENT_REQUESTS: int(2, 1),
  MAX_QUEUED_REQUESTS: int(32, 0),
  /**
   * Threads that run the modules (inference and pre-processing); `auto` = one per CPU of the cgroup
   * quota (none, i.e. the HTTP thread itself, on one CPU). onnxruntime-node blocks its calling thread.
   */
  MODULE_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(64)]).default('auto'),
  /** If set, every route but /health needs `Authorization: Bearer <token>`. */
  API_TOKEN: z.string().min(1).optional(),
  /** Milliseconds a SIGTERM waits for in-flight requests before the process exits anyway. */
  SHUTDOWN_GRACE_MS: int(25_000, 0),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`env ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
