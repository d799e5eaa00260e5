import type { Request } from '@google-cloud/functions-framework';

/**
 * The raw request body. Under our launcher the gate has read it (with the size limit) and marked it
 * read, so functions-framework's parsers skipped it; under the plain functions-framework CLI, its
 * parsers kept the raw bytes in `rawBody`.
 */
export function requestBody(req: Request): Buffer {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  if (typeof req.body === 'string') return Buffer.from(req.body);
  return Buffer.alloc(0);
}
