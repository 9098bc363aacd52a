/**
 * The one list of error codes. Only `entry/http` maps them to HTTP status codes (its error catalogue).
 * Expected outcomes are returned values ({@link Failure} in a `Result`); faults throw a {@link SomaError}.
 */
export const errorCodes = [
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'INVALID_COMBINATION',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TENANT_NOT_FOUND',
  'CAPSULE_NOT_FOUND',
  'CONVERSATION_NOT_FOUND',
  'TURN_NOT_FOUND',
  'APPROVAL_NOT_FOUND',
  'LEARNING_POINT_NOT_FOUND',
  'CONFLICT',
  'NO_MODEL_AVAILABLE',
  /** A capsule names a model the tenant may not use (a path, `scripted:` when not enabled, an unknown provider). */
  'MODEL_NOT_ALLOWED',
  /** A capsule's MCP tool names no server the operator registered in `SOMA_MCP_SERVERS` (or carries an inline server). */
  'MCP_SERVER_UNKNOWN',
  /** A tenant quota (`SOMA_TENANT_TURNS_PER_MINUTE`, `SOMA_TENANT_TOKENS_PER_DAY`) is used up. */
  'RATE_LIMITED',
  'TOOL_POLICY_DENIED',
  'TOOL_CIRCUIT_OPEN',
  'TOOL_TIMEOUT',
  'TOOL_FAILED',
  'TOOL_INVALID_ARGUMENTS',
  'LLM_TIMEOUT',
  'LLM_RATE_LIMITED',
  'LLM_SERVER_ERROR',
  'LLM_FAILED',
  'BRAIN_UNAVAILABLE',
  'CONFIG_INVALID',
  'DATABASE_UNAVAILABLE',
  /** The database's disk is full (PostgreSQL SQLSTATE 53100, ENOSPC): nothing was written; retry once space is freed. */
  'STORAGE_FULL',
  'NOT_READY',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

const known: ReadonlySet<string> = new Set(errorCodes);

/** Whether `value` is a code of the catalogue (e.g. one a remote brain answered with). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && known.has(value);
}

/** An expected outcome that refuses a request (not found, forbidden, invalid input…), returned in a `Result`. */
export interface Failure {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

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

/**
 * Whether `value`, or any error in its `cause` chain, is a {@link SomaError} with `code` (a fault
 * wrapped by another layer — e.g. the brain reporting a database that went away — keeps its origin).
 */
export function hasErrorCode(value: unknown, code: ErrorCode): boolean {
  return inCauseChain(value, (current) => isSomaError(current) && current.code === code);
}

/** Whether `value`, or an error in its `cause` chain (at most `depth` deep), passes `test`. */
export function inCauseChain(value: unknown, test: (error: unknown) => boolean, depth = 10): boolean {
  for (let current = value, seen = 0; current !== undefined && current !== null && seen < depth; seen++) {
    if (test(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
