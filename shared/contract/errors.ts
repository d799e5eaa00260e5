import type { z } from 'zod';

/** Messages the original service returns; clients match on them, so they are kept verbatim. */
export const Messages = {
  badBase64: 'Failed to decode base64 string',
  badFormat: 'This image format is not supported',
  bodyTooLarge: 'Request body size is too large',
  noObjects: 'No object were passed',
  manyFaces: 'More than one face detected',
  lowQuality: (score: number, threshold: number) =>
    `Low image quality. Calculated score value (${score}) is less than the threshold (${threshold})`,
} as const;

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** An error that becomes an HTTP answer with the contract's body: 400/413/… `{detail: string}` or 422 `{detail: [...]}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : detail.map((d) => `${d.loc.join('.')}: ${d.msg}`).join('; '));
    this.name = 'ApiError';
  }

  get body(): { detail: string | ValidationIssue[] } {
    return { detail: this.detail };
  }
}

export const badRequest = (message: string) => new ApiError(400, message);

/** zod issues → the contract's 422 body, with `loc` rooted at "body" as the original's FastAPI does. */
export function validationError(error: z.ZodError, input: unknown, root: (string | number)[] = ['body']): ApiError {
  const valueAt = (path: PropertyKey[]) =>
    path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
  const issues: ValidationIssue[] = error.issues.slice(0, 20).map((issue) => ({
    loc: [...root, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    msg: issue.message,
    type: issue.code === 'invalid_type' && valueAt(issue.path) === undefined ? 'missing' : issue.code,
  }));
  return new ApiError(422, issues);
}
