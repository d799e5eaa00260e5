import type { Server } from 'node:http';
import { afterAll, beforeAll, describe } from 'vitest';
import { launch } from '../../shared/http/launcher.js';
import { readRuntimeEnv } from '../../shared/http/limits.js';
import { contractSuite } from '../support/contract-suite.js';

let server: Server;
let url = '';

beforeAll(async () => {
  process.env.MAX_BODY_SIZE = '2';
  const { registeredFunction } = await import('../../shared/http/register.js');
  await import('../../functions/index.js');
  const fn = registeredFunction('image-api').build();
  await fn.ready;
  server = await launch('image-api', readRuntimeEnv({ ...process.env, PORT: '0' }), fn.ready);
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('all-in-one server, in-process, through the HTTP stack', () => contractSuite(() => url));
