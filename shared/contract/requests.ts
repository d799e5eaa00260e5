import { z } from 'zod';
import { ImageObject, Verification } from './objects.js';

/** Limits the request schema enforces; the HTTP layer passes the configured values. */
export interface RequestLimits {
  maxObjects: number;
}

/** `POST /process/sample` body. `$image` is required except where a service (the matcher) works from templates. */
export function sampleRequestSchema(opts: { imageRequired: boolean; limits: RequestLimits }) {
  const image = z.string({ error: (iss) => (iss.input === undefined ? 'Field required' : 'Input should be a valid string') });
  return z.looseObject({
    $image: opts.imageRequired ? image : image.optional(),
    objects: z
      .array(ImageObject)
      .max(opts.limits.maxObjects, { message: `at most ${opts.limits.maxObjects} objects per request` })
      .optional(),
  });
}
export type SampleRequest = z.infer<ReturnType<typeof sampleRequestSchema>>;

export const SampleResponse = z.looseObject({
  $image: z.string().optional(),
  objects: z.array(ImageObject),
  verification: Verification.optional(),
});
export type SampleResponse = z.infer<typeof SampleResponse>;

export const ErrorBody = z.object({
  detail: z.union([
    z.string(),
    z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
  ]),
});
