import { canonicalJson } from '../../shared/hash.js';

/** The parts of a tool call that identify it for loop detection. */
export interface ToolCallKey {
  name: string;
  args: unknown;
}

/**
 * True when `call` repeats a call already made in this turn: the same tool name with arguments
 * that are equal as canonical JSON (key order does not matter). Feeds the `loop_detected` exit.
 */
export function isRepeatedToolCall(history: readonly ToolCallKey[], call: ToolCallKey): boolean {
  const key = canonicalJson(call.args ?? null);
  return history.some((previous) => previous.name === call.name && canonicalJson(previous.args ?? null) === key);
}
