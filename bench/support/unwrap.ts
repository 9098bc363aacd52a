import type { Failure } from '../../src/shared/errors.js';
import type { Result } from '../../src/shared/result.js';

/** The value of a use case's result; a refusal ends the bench with its code and message. */
export function unwrap<T>(result: Result<T, Failure>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** A bench turn's answer: the benches never ask for approval, so a paused turn is a bench error. */
export function completed<T extends object>(outcome: T): Exclude<T, { status: 'awaiting_approval' }> {
  if ('status' in outcome && (outcome as { status: unknown }).status === 'awaiting_approval') throw new Error('a bench turn paused for an approval');
  return outcome as Exclude<T, { status: 'awaiting_approval' }>;
}
