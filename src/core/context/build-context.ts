import type { ChatMessage, ToolCall } from '../../ports/chat-model.js';
import type { Weights } from '../../ports/learning.js';
import type { LaneBudgets } from './lanes.js';
import { memoryLine, selectMemoryLane, type LaneCandidate, type MemoryLane } from './memory-lane.js';

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** The result of one tool call as the next iteration's prompt shows it. */
export interface ToolResultNote {
  callId: string;
  name: string;
  args: unknown;
  ok: boolean;
  /** JSON text of the result or the error message. */
  text: string;
}

/** One earlier iteration of the turn: its draft, the tools it called and what they returned. */
export interface TurnStep {
  text: string;
  toolCalls: readonly ToolCall[];
  results: readonly ToolResultNote[];
}

export interface BuildContextInput {
  systemPrompt: string;
  /** Earlier messages of the conversation, oldest first (the current user message excluded). */
  history: readonly HistoryMessage[];
  userMessage: string;
  /** The turn's recalled memories: the lane takes from them by SPEC §5's maths (`selectMemoryLane`). */
  memories: readonly LaneCandidate[];
  /** The weights the turn recalled with (its exploration draw included): they choose the lane. */
  laneWeights: Weights;
  /** The turn's earlier iterations, oldest first (empty on iteration 0). */
  steps: readonly TurnStep[];
  /** The refine step's user message (iteration k ≥ 1), see {@link refineInstruction}; none after a tool round. */
  instruction?: string;
  /** Zero-based iteration number. */
  iteration: number;
  budgets: LaneBudgets;
  countTokens: (text: string) => number;
  /** The lane of `memories` for `laneWeights` within `budgets.memory` when already worked out ({@link lanePlanner}); else it is here. */
  lane?: MemoryLane;
}

export interface BuiltContext {
  messages: ChatMessage[];
  /** Tokens used per lane after trimming. */
  used: Record<'system' | 'history' | 'memory' | 'tool_results' | 'draft', number>;
  /** Keys of the memories in the lane, in weight order. */
  memoryKeys: string[];
  /** The lane and its planner figures. */
  lane: MemoryLane;
}

/**
 * Builds the prompt of one iteration within the lane budgets. The memory lane is chosen by
 * `selectMemoryLane` (softmax over `c/τ`, then the planner utility with λ μ ν) within its budget;
 * history is trimmed from the oldest message, within what the user message leaves of the history lane;
 * tool results are taken in order while they fit. The user message (at most the history lane, checked
 * when the turn is prepared) and the previous draft are always kept (they are what the iteration is about).
 *
 * Tool turns are native (SPEC §13.3): each earlier iteration that called tools is an assistant
 * message carrying its text and tool calls, followed by one `tool` message per call with its result
 * (or error); the previous draft, when it was not such a tool round, is a plain assistant message;
 * the refine instruction, when there is one, is the last user message. No assistant message is ever
 * empty: a tool-only iteration appears only as its tool calls.
 */
export function buildContext(input: BuildContextInput): BuiltContext {
  const { budgets, countTokens } = input;
  const used = { system: 0, history: 0, memory: 0, tool_results: 0, draft: 0 };

  const system = truncateToTokens(input.systemPrompt, budgets.system, countTokens);
  used.system = countTokens(system);

  const lane = input.lane ?? selectMemoryLane({ candidates: input.memories, weights: input.laneWeights, tokenBudget: budgets.memory, countTokens });
  used.memory = lane.tokens;
  const memoryKeys = lane.selected.map((memory) => memory.key);
  const memoryLines = lane.selected.map(memoryLine);

  // The user message is the newest message of the history lane: older messages get what it leaves.
  const historyBudget = Math.max(0, budgets.history - countTokens(input.userMessage));
  const history: HistoryMessage[] = [];
  for (let i = input.history.length - 1; i >= 0; i--) {
    const message = input.history[i]!;
    const cost = countTokens(message.content);
    if (used.history + cost > historyBudget) break;
    used.history += cost;
    history.unshift(message);
  }

  const systemParts = [system];
  if (memoryLines.length > 0) systemParts.push(`What you remember that may help:\n${memoryLines.join('\n')}`);
  const messages: ChatMessage[] = [{ role: 'system', content: systemParts.join('\n\n') }];
  for (const message of history) messages.push({ role: message.role, content: message.content });
  messages.push({ role: 'user', content: input.userMessage });

  const steps = input.iteration > 0 ? input.steps : [];
  steps.forEach((step, index) => {
    if (step.toolCalls.length > 0) {
      messages.push({ role: 'assistant', content: step.text, toolCalls: [...step.toolCalls] });
      used.draft += step.text === '' ? 0 : countTokens(step.text);
      for (const call of step.toolCalls) {
        const result = step.results.find((r) => r.callId === call.callId);
        const text = result ? (result.ok ? result.text : `error: ${result.text}`) : 'error: the call did not run';
        const cost = countTokens(text);
        const fits = used.tool_results + cost <= budgets.tool_results;
        if (fits) used.tool_results += cost;
        messages.push({ role: 'tool', toolCallId: call.callId, toolName: call.name, content: fits ? text : 'result omitted (context budget)' });
      }
    } else if (index === steps.length - 1 && step.text.trim() !== '') {
      used.draft += countTokens(step.text);
      messages.push({ role: 'assistant', content: step.text });
    }
  });
  if (input.instruction) messages.push({ role: 'user', content: input.instruction });
  return { messages, used, memoryKeys, lane };
}

/** Cuts `text` to at most `maxTokens` tokens (by halving, so few tokenizer calls). */
export function truncateToTokens(text: string, maxTokens: number, countTokens: (text: string) => number): string {
  if (countTokens(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countTokens(text.slice(0, mid)) <= maxTokens) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low);
}
