/**
 * One catalogue of error codes. Only `entry/http` maps them to HTTP status codes.
 * Expected outcomes are returned values; faults throw a {@link SomaError}.
 */
export const errorCatalogue = {
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
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export interface SomaErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  details?: unknown;
}

/** A fault with a catalogue code. `retryable` tells callers whether trying again may help. */
export class SomaError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, { retryable = false, cause, details }: SomaErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SomaError';
    this.code = code;
    this.retryable = retryable;
    this.details = details;
  }
}

export function isSomaError(value: unknown): value is SomaError {
  return value instanceof SomaError;
}

export function httpStatusOf(code: ErrorCode): number {
  return errorCatalogue[code];
}
