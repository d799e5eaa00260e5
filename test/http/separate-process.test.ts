import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { contractSuite } from '../support/contract-suite.js';

let server: ServerProcess;

beforeAll(async () => {
  // Two module threads whatever the machine's core count: the contract holds through the worker hand-off.
  server = await startServer({ env: { MAX_BODY_SIZE: '2', MODULE_WORKERS: '2' } });
});

afterAll(async () => {
  await server.stop();
});

describe('all-in-one server as a separate process (dist/ build)', () => {
  contractSuite(() => server.url);

  it('logs no image bytes', () => {
    expect(server.output()).not.toMatch(/[A-Za-z0-9+/]{200,}/);
  });
});
