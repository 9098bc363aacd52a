/** An expected outcome: either a value or a typed failure. */
export type Result<T, E = { code: string; message: string }> =
  | { ok: true; value: T }
  | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
