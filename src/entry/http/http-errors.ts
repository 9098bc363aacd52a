import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isSomaError, type ErrorCode, type Failure } from '../../shared/errors.js';
import type { Result } from '../../shared/result.js';

/** The one error catalogue: error code → HTTP status. Only this layer knows status codes. */
export const httpStatusOf: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  CAPSULE_NOT_FOUND: 404,
  CONVERSATION_NOT_FOUND: 404,
  TURN_NOT_FOUND: 404,
  APPROVAL_NOT_FOUND: 404,
  LEARNING_POINT_NOT_FOUND: 404,
  CONFLICT: 409,
  NO_MODEL_AVAILABLE: 422,
  TOOL_POLICY_DENIED: 403,
  TOOL_CIRCUIT_OPEN: 503,
  TOOL_TIMEOUT: 504,
  TOOL_FAILED: 502,
  TOOL_INVALID_ARGUMENTS: 400,
  LLM_TIMEOUT: 504,
  LLM_RATE_LIMITED: 429,
  LLM_SERVER_ERROR: 502,
  LLM_FAILED: 502,
  BRAIN_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  DATABASE_UNAVAILABLE: 503,
  NOT_READY: 503,
  INTERNAL: 500,
};

/** The one error body of the API: `{error: {code, message, details?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** A use case's refusal on its way out of a typed route handler (see {@link unwrap}); answered with the catalogue's status. */
export class Refusal extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'Refusal';
  }
}

/** The value of a use case's result; a refusal leaves the handler and becomes its 4xx answer. */
export function unwrap<T>(result: Result<T, Failure>): T {
  if (!result.ok) throw new Refusal(result.error);
  return result.value;
}

/** Maps any thrown value to the API error shape and status. */
export function toHttpError(err: unknown): { status: ContentfulStatusCode; body: ReturnType<typeof errorBody> } {
  if (err instanceof Refusal) return { status: httpStatusOf[err.failure.code], body: errorBody(err.failure.code, err.failure.message, err.failure.details) };
  if (isSomaError(err)) return { status: httpStatusOf[err.code], body: errorBody(err.code, err.message, err.details) };
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
