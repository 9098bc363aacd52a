import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { httpStatusOf, isSomaError, type ErrorCode } from '../../shared/errors.js';

/** The one error body of the API: `{error: {code, message, details?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** Maps any thrown value to the API error shape and status; only this layer knows status codes. */
export function toHttpError(err: unknown): { status: ContentfulStatusCode; body: ReturnType<typeof errorBody> } {
  if (isSomaError(err)) return { status: httpStatusOf(err.code) as ContentfulStatusCode, body: errorBody(err.code, err.message, err.details) };
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 401 ? 'UNAUTHORIZED' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    const message = status === 400 && /json/i.test(err.message) ? 'the request body is not valid JSON' : err.message || code;
    return { status, body: errorBody(code, message) };
  }
  return { status: 500, body: errorBody('INTERNAL', 'internal error') };
}

export function respondError(c: Context, err: unknown) {
  const { status, body } = toHttpError(err);
  return c.json(body, status);
}

/** The validation hook of every route: zod issues become one 400 with each field named. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, c: Context) {
  if (!result.success) {
    const issues = result.error?.issues ?? [];
    const message = issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
    return c.json(errorBody('VALIDATION_FAILED', message || 'invalid request', issues.map((i) => ({ path: i.path.map(String), message: i.message }))), 400);
  }
  return undefined;
}

