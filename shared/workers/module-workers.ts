import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResolvedServiceConfig } from '../config/service-config.js';
import { ApiError } from '../contract/errors.js';
import { requestTimings, type RequestTimings } from '../models/session.js';
import type { EncodedProcessInput, ModuleRuntime, ProcessInput, ProcessOutput } from '../modules/runtime.js';
import type { FromWorker, ToWorker, WorkerError } from './protocol.js';

interface Pending {
  /** The request's timing record, taken at dispatch: the worker's reply arrives outside the request's async context. */
  timings: RequestTimings | undefined;
  resolve: (output: ProcessOutput) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Services loaded and warmed in this worker. */
  loaded: Set<string>;
  inFlight: Map<number, Pending>;
  loads: Map<string, { resolve: () => void; reject: (error: Error) => void }>;
}

const script = new URL('./module-worker.js', import.meta.url);

type ToWorkerImage = Extract<ToWorker, { kind: 'process' }>['image'];

/** Whether workers can start: the worker entry exists as JavaScript (not under vitest, which runs the TypeScript sources). */
export const workersAvailable = () => script.protocol === 'file:' && existsSync(fileURLToPath(script));

function rebuild(error: WorkerError): Error {
  return error.status !== undefined && error.detail !== undefined ? new ApiError(error.status, error.detail, error.headers) : new Error(error.message);
}

/**
 * A fixed set of module worker threads, one per CPU the process may use. Every hosted service is loaded
 * in every worker; a request goes to the worker with the fewest requests in flight. The encoded image
 * crosses once per request (copied: the JPEG, not its pixels) and is decoded in the worker; the answer's
 * objects come back.
 * A worker that dies serving fails its requests with a 500 and is replaced, reloading what it hosted.
 */
export class ModuleWorkers {
  private readonly slots: Slot[] = [];
  private readonly hosted = new Map<string, ResolvedServiceConfig>();
  private nextId = 1;
  private closing = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(script), loaded: new Set(), inFlight: new Map(), loads: new Map() };
    slot.worker.on('message', (message: FromWorker) => this.receive(slot, message));
    slot.worker.on('error', (error) => this.fail(slot, error));
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`module worker exited with code ${code}`)));
    return slot;
  }

  private receive(slot: Slot, message: FromWorker): void {
    if (message.kind === 'loaded' || message.kind === 'load-failed') {
      const load = slot.loads.get(message.service);
      slot.loads.delete(message.service);
      if (message.kind === 'loaded') {
        slot.loaded.add(message.service);
        load?.resolve();
      } else {
        load?.reject(new Error(message.message));
      }
      return;
    }
    const pending = slot.inFlight.get(message.id);
    if (!pending) return;
    slot.inFlight.delete(message.id);
    if (pending.timings) {
      pending.timings.decodeMs += message.decodeMs;
      pending.timings.inferenceMs += message.inferenceMs;
    }
    if (message.kind === 'result') pending.resolve(message.output);
    else pending.reject(rebuild(message.error));
  }

  private fail(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // 'error' is followed by 'exit': handled once
    for (const pending of slot.inFlight.values()) pending.reject(new Error(`module worker failed: ${error.message}`));
    for (const load of slot.loads.values()) load.reject(error);
    // A worker that dies while loading would die again: its load fails the service (health says so)
    // instead of a respawn loop.
    if (this.closing || slot.loads.size > 0) {
      this.slots.splice(index, 1);
      return;
    }
    const replacement = this.spawn();
    this.slots[index] = replacement;
    for (const [service, config] of this.hosted) void this.load(replacement, service, config).catch(() => undefined);
  }

  private load(slot: Slot, service: string, config: ResolvedServiceConfig): Promise<void> {
    return new Promise((resolve, reject) => {
      slot.loads.set(service, { resolve, reject });
      slot.worker.postMessage({ kind: 'load', service, config } satisfies ToWorker);
    });
  }

  /** Loads the service's module in every worker; resolves once all of them have it warmed. */
  async host(config: ResolvedServiceConfig): Promise<ModuleRuntime> {
    this.hosted.set(config.service, config);
    await Promise.all(this.slots.map((slot) => this.load(slot, config.service, config)));
    return {
      config,
      process: (input) => this.dispatch(config.service, input, input.image && { data: new Uint8Array(input.image.data), width: input.image.width, height: input.image.height, scale: input.image.scale ?? 1 }, undefined),
      processEncoded: (input) => this.dispatch(config.service, input, undefined, input.encoded && { ...input.encoded, bytes: new Uint8Array(input.encoded.bytes) }),
    };
  }

  /** Sends one request to the least busy worker; `image` / `encoded` are fresh copies whose buffers are transferred. */
  private dispatch(service: string, input: Pick<ProcessInput, 'objects' | 'route'>, image: ToWorkerImage, encoded: EncodedProcessInput['encoded']): Promise<ProcessOutput> {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.loaded.has(service) && (!best || slot.inFlight.size < best.inFlight.size)) best = slot;
    }
    if (this.closing) return Promise.reject(new ApiError(503, 'Server is shutting down; retry later', { 'Retry-After': '1' }));
    if (!best) return Promise.reject(new ApiError(503, 'Service is restarting a worker: models are loading', { 'Retry-After': '1' }));
    const slot = best;
    const id = this.nextId++;
    const transfer = [image?.data.buffer, encoded?.bytes.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    return new Promise<ProcessOutput>((resolve, reject) => {
      slot.inFlight.set(id, { timings: requestTimings.getStore(), resolve, reject });
      const message: ToWorker = { kind: 'process', id, service, image, encoded, objects: input.objects, route: input.route };
      slot.worker.postMessage(message, transfer);
    });
  }

  /** Each worker finishes the requests it has, then ends; resolves when all have. (Never Worker.terminate: see module-worker.ts.) */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            slot.worker.once('exit', () => resolve());
            slot.worker.postMessage({ kind: 'close' } satisfies ToWorker);
          }),
      ),
    );
  }
}
