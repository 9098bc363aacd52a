import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isSomaError, type ErrorCode, type Failure } from '../../shared/errors.js';
import type { Result } from '../../shared/result.js';

/** The one error catalogue: error code → HTTP status. Only this layer knows status codes. */
export const httpStatusOf: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  INVALID_COMBINATION: 422,
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
  MODEL_NOT_ALLOWED: 400,
  MCP_SERVER_UNKNOWN: 400,
  RATE_LIMITED: 429,
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
  STORAGE_FULL: 507,
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

/**
 * Text no error body may carry: SQL (a driver's "Failed query … params:"), stack frames, source or
 * data file paths. A message that holds any of it is replaced by a generic one for its code.
 */
const unsafeText = [
  /failed query|\bparams:/i,
  /\b(select\s[\s\S]*\bfrom|insert\s+into|update\s+"?\w+"?\s+set|delete\s+from|returning\s+")\b/i,
  /^\s*at\s.+:\d+:\d+\)?$/m,
  /\.(?:ts|js|mjs|cjs|json|gguf|sql)(?::\d+)?\b/i,
  /(?:^|[\s"'(=:])\/(?:home|root|usr|work|tmp|var|etc|opt|proc|srv|data|app)\//,
];

/** `message` when it is safe to show, else a generic sentence for `code`. */
export function safeMessage(code: string, message: string): string {
  if (!unsafeText.some((pattern) => pattern.test(message))) return message;
  return code === 'INTERNAL' ? 'internal error' : `${code.toLowerCase().replace(/_/g, ' ')} (details are in the server log)`;
}

function safeBody(status: ContentfulStatusCode, code: ErrorCode, message: string, details: unknown) {
  // Details of faults (5xx) are the server's business: drivers and providers put raw text there.
  return errorBody(code, safeMessage(code, message), status >= 500 ? undefined : details);
}

/** Seconds a client is told to wait (`Retry-After`) before trying again on a full disk. */
export const STORAGE_FULL_RETRY_AFTER_S = 30;

/** `Retry-After` of a quota refusal (its `details.retry_after_seconds`) or of a full disk, else no extra header. */
function headersOf(failure: Pick<Failure, 'code' | 'details'>): Record<string, string> | undefined {
  if (failure.code === 'STORAGE_FULL') return { 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) };
  const retry = (failure.details as { retry_after_seconds?: unknown } | undefined)?.retry_after_seconds;
  return failure.code === 'RATE_LIMITED' && typeof retry === 'number' ? { 'retry-after': String(retry) } : undefined;
}

/** Maps any thrown value to the API error shape, status and headers (`Retry-After` of a 429 or 507). */
export function toHttpError(err: unknown): { status: ContentfulStatusCode; body: ReturnType<typeof errorBody>; headers?: Record<string, string> } {
  if (err instanceof Refusal) {
    const status = httpStatusOf[err.failure.code];
    const headers = headersOf(err.failure);
    return { status, body: safeBody(status, err.failure.code, err.failure.message, err.failure.details), ...(headers ? { headers } : {}) };
  }
  if (isSomaError(err)) {
    const status = httpStatusOf[err.code];
    const headers = headersOf(err);
    return { status, body: safeBody(status, err.code, err.message, err.details), ...(headers ? { headers } : {}) };
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 401 ? 'UNAUTHORIZED' : status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    const message = status === 400 && /json/i.test(err.message) ? 'the request body is not valid JSON' : err.message || code;
    return { status, body: errorBody(code, message) };
  }
  return { status: 500, body: errorBody('INTERNAL', 'internal error') };
}

export function respondError(c: Context, err: unknown) {
  const { status, body, headers } = toHttpError(err);
  return c.json(body, status, headers);
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
