import type { Failure } from '../../src/shared/errors.js';
import type { Result } from '../../src/shared/result.js';

/** The value of a use case's result; a refusal ends the bench with its code and message. */
export function unwrap<T>(result: Result<T, Failure>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
