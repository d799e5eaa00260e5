import { z } from 'zod';
import { ErrorBody, SampleResponse, sampleRequestSchema } from '../contract/requests.js';
import { Modules, type ModuleName } from '../modules/catalogue.js';
import { eventTypes } from '../events/cloudevents.js';

/** OpenAPI 3.1 for the mounted services, generated from the same zod schemas that validate requests. */
export function openApiDocument(mounts: { prefix: string; module: ModuleName }[], maxObjects: number): Record<string, unknown> {
  const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const errors = {
    '400': { description: 'Service error (bad base64, unsupported image, …)', content: { 'application/json': { schema: json(ErrorBody) } } },
    '413': { description: 'Body over MAX_BODY_SIZE', content: { 'application/json': { schema: json(ErrorBody) } } },
    '422': { description: 'Request shape error', content: { 'application/json': { schema: json(ErrorBody) } } },
    '503': { description: 'Starting or overloaded (see Retry-After)', content: { 'application/json': { schema: json(ErrorBody) } } },
  };
  const paths: Record<string, unknown> = {};
  for (const { prefix, module } of mounts) {
    const info = Modules[module];
    const tag = info.service;
    const ok = { description: 'Objects with this service\'s fields added', content: { 'application/json': { schema: json(SampleResponse) } } };
    paths[`${prefix}/process/sample`] = {
      post: {
        tags: [tag],
        summary: `${info.summary} (JSON with base64 image and objects)`,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: json(sampleRequestSchema({ imageRequired: info.imageRequired, limits: { maxObjects } })) } },
        },
        responses: { '200': ok, ...errors },
      },
    };
    paths[`${prefix}/process/image`] = {
      post: {
        tags: [tag],
        summary: `${info.summary} (multipart upload, field "image")`,
        requestBody: {
          required: true,
          content: { 'multipart/form-data': { schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' } } } } },
        },
        responses: { '200': ok, ...errors },
      },
    };
    paths[`${prefix}/`] = {
      post: {
        tags: [tag],
        summary: `CloudEvent ${eventTypes(info.service).request} (binary or structured); data = a process/sample body`,
        responses: { '200': { description: `CloudEvent ${eventTypes(info.service).result} or ${eventTypes(info.service).error} in binary mode` } },
      },
    };
    paths[`${prefix}/health`] = { get: { tags: [tag], summary: 'Ready once every model is loaded and warmed', responses: { '200': { description: 'ready' }, '503': { description: 'loading' } } } };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Image API (v1 dialect)', version: '0.1.0', description: 'Face and body analysis; see README.md' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Only when API_TOKEN is set' } } },
    paths,
  };
}

export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary?: string }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `<tr><td>${method.toUpperCase()}</td><td><code>${path}</code></td><td>${op.summary ?? ''}</td></tr>`))
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Image API</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}td{padding:.3em .8em;border-bottom:1px solid #ddd}code{font-size:95%}</style></head>
<body><h1>Image API</h1><p>Machine-readable schema: <a href="openapi.json">openapi.json</a>.
Example: <code>curl -F image=@face.jpg http://localhost:8080/face-detector-face-fitter/process/image</code></p>
<table><tr><th>method</th><th>path</th><th>what</th></tr>${rows}</table></body></html>`;
}
