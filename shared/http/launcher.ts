import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { Admission } from './admission.js';
import { gate, type GateState } from './gate.js';
import type { RuntimeEnv } from './limits.js';
import { log } from './service-endpoint.js';

/** The longest the exit waits for module workers to finish the inference they are in. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Serves a registered functions-framework function: the framework's own express server with our gate
 * in front of it (limits, admission, auth), and a graceful SIGTERM: stop accepting, let in-flight
 * requests finish (up to SHUTDOWN_GRACE_MS), exit 0. `close` runs before the exit: module workers must
 * be stopped first, since exiting while one is inside onnxruntime tears its globals down under it (the
 * process then dies of a signal instead of exiting 0).
 */
export function launch(target: string, limits: RuntimeEnv, ready: Promise<void>, close: () => Promise<void> = async () => undefined): Promise<Server> {
  const server = getTestServer(target);
  const [app] = server.listeners('request') as Parameters<typeof gate>[0][];
  server.removeAllListeners('request');
  const admission = new Admission(limits.MAX_CONCURRENT_REQUESTS, limits.MAX_QUEUED_REQUESTS);
  const state: GateState = { draining: false };
  const gated = gate(app, limits, admission, state);
  server.on('request', gated);
  // Without this listener Node sends "100 Continue" itself, inviting a body the gate may refuse.
  server.on('checkContinue', gated);
  server.requestTimeout = limits.REQUEST_TIMEOUT_MS + 10_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  // A socket silent for this long is closed: a client that never reads its answer must not hold an
  // admission slot (and the answer's memory) forever. Longer than any request may take to run.
  server.setTimeout(limits.REQUEST_TIMEOUT_MS + 10_000);

  let stopping = false;
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    const cap = setTimeout(() => process.exit(0), CLOSE_WAIT_MS);
    void close().finally(() => {
      clearTimeout(cap);
      process.exit(0);
    });
  };
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    state.draining = true;
    log('info', `${signal}: closing; ${admission.inFlight} request(s) in flight`);
    const timer = setTimeout(() => {
      log('warn', `shutdown grace of ${limits.SHUTDOWN_GRACE_MS} ms passed with requests in flight; exiting`);
      exit();
    }, limits.SHUTDOWN_GRACE_MS);
    timer.unref();
    server.close(exit);
    // Keep-alive connections turn idle as their requests finish; close each as soon as it does.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(limits.PORT, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : limits.PORT;
      log('info', `${target}: listening on port ${port}`);
      void ready.then(() => log('info', `${target}: ready`));
      resolve(server);
    });
  });
}
