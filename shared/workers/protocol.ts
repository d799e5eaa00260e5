import type { ResolvedServiceConfig } from '../config/service-config.js';
import type { ValidationIssue } from '../contract/errors.js';
import type { ImageObject } from '../contract/objects.js';
import type { EncodedImage, ProcessOutput } from '../modules/runtime.js';

/**
 * Messages between the HTTP thread and a module worker. Both ends are this code base, in one process,
 * so these are types rather than schemas; what crosses is structured-cloned data only.
 */
export type ToWorker =
  | { kind: 'load'; service: string; config: ResolvedServiceConfig }
  /** Finish the requests already received, then end the thread. */
  | { kind: 'close' }
  | {
      kind: 'process';
      id: number;
      service: string;
      /** Decoded pixels, or the encoded image for the worker to decode (at most one of the two). */
      image?: { data: Uint8Array; width: number; height: number; scale: number };
      encoded?: EncodedImage;
      objects: ImageObject[];
      route: 'image' | 'sample';
    };

export interface WorkerError {
  message: string;
  /** Set when the module threw an ApiError: rebuilt as one on the HTTP thread. */
  status?: number;
  detail?: string | ValidationIssue[];
  headers?: Record<string, string>;
}

export type FromWorker =
  | { kind: 'loaded'; service: string }
  | { kind: 'load-failed'; service: string; message: string }
  | { kind: 'result'; id: number; output: ProcessOutput; decodeMs: number; inferenceMs: number }
  | { kind: 'error'; id: number; error: WorkerError; decodeMs: number; inferenceMs: number };
