/**
 * A module worker: a thread that hosts module runtimes (their models loaded and warmed here) and runs
 * requests for them. onnxruntime-node runs inference synchronously on the calling thread, so one
 * process needs one such thread per core to use its cores; the HTTP thread only parses and answers.
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../contract/errors.js';
import { decodeInspected } from '../image/decode.js';
import { requestTimings, type RequestTimings } from '../models/session.js';
import { createModule } from '../modules/registry.js';
import type { RgbImage } from '../image/rgb-image.js';
import type { ModuleRuntime, ProcessOutput } from '../modules/runtime.js';
import type { FromWorker, ToWorker, WorkerError } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('module-worker runs as a worker thread');
const runtimes = new Map<string, ModuleRuntime>();
/** Replies not yet sent. */
const active = new Set<Promise<void>>();
let closing = false;
const send = (message: FromWorker) => port.postMessage(message);

function describe(error: unknown): WorkerError {
  if (error instanceof ApiError) return { message: error.message, status: error.status, detail: error.detail, headers: error.headers };
  return { message: error instanceof Error ? error.message : String(error) };
}

async function run(message: Extract<ToWorker, { kind: 'process' }>, timings: RequestTimings): Promise<ProcessOutput> {
  if (closing) throw new ApiError(503, 'Server is shutting down; retry later', { 'Retry-After': '1' });
  const runtime = runtimes.get(message.service);
  if (!runtime) throw new Error(`module worker does not host ${message.service}`);
  let image: RgbImage | undefined;
  if (message.encoded) {
    const started = performance.now();
    try {
      image = await decodeInspected(message.encoded.bytes, message.encoded.inspection, message.encoded.limits);
    } finally {
      timings.decodeMs += performance.now() - started;
    }
  } else if (message.image) {
    const { data } = message.image;
    image = { ...message.image, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  }
  return requestTimings.run(timings, () => runtime.process({ image, objects: message.objects, route: message.route }));
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'close') {
    // Ending the thread from outside (Worker.terminate) while onnxruntime is in a run aborts the whole
    // process (its binding throws a C++ Napi::Error into a terminating isolate): the thread ends itself,
    // once its requests are answered.
    closing = true;
    void Promise.allSettled([...active]).then(() => process.exit(0));
    return;
  }
  if (message.kind === 'load') {
    createModule(message.config).then(
      (runtime) => {
        runtimes.set(message.service, runtime);
        send({ kind: 'loaded', service: message.service });
      },
      (error: unknown) => send({ kind: 'load-failed', service: message.service, message: describe(error).message }),
    );
    return;
  }
  const timings: RequestTimings = { decodeMs: 0, inferenceMs: 0 };
  const reply = run(message, timings).then(
    (output) => send({ kind: 'result', id: message.id, output, ...timings }),
    (error: unknown) => send({ kind: 'error', id: message.id, error: describe(error), ...timings }),
  );
  active.add(reply);
  void reply.finally(() => active.delete(reply));
});
