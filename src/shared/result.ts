import type { ErrorCode, Failure } from './errors.js';

/** An expected outcome: either a value or a typed failure. */
export type Result<T, E = Failure> =
  | { ok: true; value: T }
  | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** A refusal: `err({code, message, details?})`. */
export function refuse(code: ErrorCode, message: string, details?: unknown): Result<never, Failure> {
  return err(details === undefined ? { code, message } : { code, message, details });
}
