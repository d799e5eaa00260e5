import { randomUUID } from 'node:crypto';
import { CloudEvent, HTTP, type Message } from 'cloudevents';
import { ApiError } from '../contract/errors.js';

/** Event types, fixed by the contract (§6): request, reply, failure. */
export const eventTypes = (service: string) => ({
  request: `imageapi.${service}.process`,
  result: `imageapi.${service}.result`,
  error: `imageapi.${service}.error`,
});

export const eventSource = (service: string) => `/image-api/${service}`;

/** True when the request carries a CloudEvent, in binary (`ce-*` headers) or structured mode. */
export function isCloudEvent(headers: Record<string, string | string[] | undefined>): boolean {
  const type = String(headers['content-type'] ?? '');
  return headers['ce-specversion'] !== undefined || type.startsWith('application/cloudevents+json');
}

export interface IncomingEvent {
  id: string;
  type: string;
  data: unknown;
}

export function parseCloudEvent(headers: Record<string, string | string[] | undefined>, body: Buffer, service: string): IncomingEvent {
  let event: CloudEvent<unknown>;
  try {
    const parsed = HTTP.toEvent({ headers: headers as Message['headers'], body: body.toString('utf8') });
    event = (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>;
  } catch (error) {
    throw new ApiError(400, `Invalid CloudEvent: ${(error as Error).message}`);
  }
  const expected = eventTypes(service).request;
  if (event.type !== expected) throw new ApiError(400, `CloudEvent type "${event.type}" is not handled here; expected "${expected}"`);
  let data: unknown = event.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      throw new ApiError(400, 'CloudEvent data is not JSON');
    }
  } else if (Buffer.isBuffer(data) || data instanceof Uint8Array) {
    try {
      data = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      throw new ApiError(400, 'CloudEvent data is not JSON');
    }
  }
  return { id: event.id, type: event.type, data };
}

/**
 * The reply, in binary mode: a Knative Broker counts a plain JSON body as a failed delivery, so even
 * errors travel as an event (type `…error`, data = the contract's error body). `requestid` carries the
 * request's id for correlation.
 */
export function replyEvent(service: string, kind: 'result' | 'error', data: unknown, requestId: string): { headers: Record<string, string>; body: string } {
  const event = new CloudEvent({
    specversion: '1.0',
    id: randomUUID(),
    source: eventSource(service),
    type: eventTypes(service)[kind],
    datacontenttype: 'application/json',
    requestid: requestId,
    data,
  });
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v);
  return { headers, body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body) };
}
