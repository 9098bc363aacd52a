import type { ChatMessage } from '../../ports/chat-model.js';
import type { LaneBudgets } from './lanes.js';

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ToolResultNote {
  name: string;
  args: unknown;
  ok: boolean;
  /** JSON text of the result or the error message. */
  text: string;
}

export interface BuildContextInput {
  systemPrompt: string;
  /** Earlier messages of the conversation, oldest first (the current user message excluded). */
  history: readonly HistoryMessage[];
  userMessage: string;
  /** Recalled memories chosen for the memory lane, best first. */
  memories: readonly { key: string; content: string }[];
  /** Tool results of the turn so far. */
  toolResults: readonly ToolResultNote[];
  /** The previous draft (iteration k ≥ 1). */
  previousDraft?: string;
  /** Zero-based iteration number. */
  iteration: number;
  budgets: LaneBudgets;
  countTokens: (text: string) => number;
}

export interface BuiltContext {
  messages: ChatMessage[];
  /** Tokens used per lane after trimming. */
  used: Record<'system' | 'history' | 'memory' | 'tool_results' | 'draft', number>;
  /** Keys of the memories that fit. */
  memoryKeys: string[];
}

/** The refine instruction of iteration k ≥ 1; it lets the model declare its answer final. */
export const refineInstruction = [
  'Critique your previous draft above: is it correct, complete and does it use the tool results?',
  'Then write the full improved answer to the user (the answer only, not the critique).',
  'On the last line write "CONFIDENCE: <a number from 0 to 1>" for how sure you are,',
  'and add the word FINAL on that line if no further refinement would improve the answer.',
].join(' ');

/**
 * Builds the prompt of one iteration within the lane budgets. History is trimmed from the oldest
 * message; memories and tool results are taken in order while they fit. The user message and the
 * previous draft are always kept (they are what the iteration is about).
 */
export function buildContext(input: BuildContextInput): BuiltContext {
  const { budgets, countTokens } = input;
  const used = { system: 0, history: 0, memory: 0, tool_results: 0, draft: 0 };

  const system = truncateToTokens(input.systemPrompt, budgets.system, countTokens);
  used.system = countTokens(system);

  const memoryKeys: string[] = [];
  const memoryLines: string[] = [];
  for (const memory of input.memories) {
    const line = `- ${memory.content}`;
    const cost = countTokens(line);
    if (used.memory + cost > budgets.memory) break;
    used.memory += cost;
    memoryLines.push(line);
    memoryKeys.push(memory.key);
  }

  const history: HistoryMessage[] = [];
  for (let i = input.history.length - 1; i >= 0; i--) {
    const message = input.history[i]!;
    const cost = countTokens(message.content);
    if (used.history + cost > budgets.history) break;
    used.history += cost;
    history.unshift(message);
  }

  const toolLines: string[] = [];
  for (const result of input.toolResults) {
    const line = `- ${result.name}(${JSON.stringify(result.args)}) → ${result.ok ? 'ok' : 'error'}: ${result.text}`;
    const cost = countTokens(line);
    if (used.tool_results + cost > budgets.tool_results) {
      toolLines.push(`- ${result.name}: result omitted (context budget)`);
      continue;
    }
    used.tool_results += cost;
    toolLines.push(line);
  }

  const systemParts = [system];
  if (memoryLines.length > 0) systemParts.push(`What you remember that may help:\n${memoryLines.join('\n')}`);
  const messages: ChatMessage[] = [{ role: 'system', content: systemParts.join('\n\n') }];
  for (const message of history) messages.push({ role: message.role, content: message.content });
  messages.push({ role: 'user', content: input.userMessage });

  if (input.iteration > 0 && input.previousDraft !== undefined) {
    used.draft = countTokens(input.previousDraft);
    messages.push({ role: 'assistant', content: input.previousDraft });
    const parts = [];
    if (toolLines.length > 0) parts.push(`Tool results so far:\n${toolLines.join('\n')}`);
    parts.push(refineInstruction);
    messages.push({ role: 'user', content: parts.join('\n\n') });
  } else if (toolLines.length > 0) {
    messages.push({ role: 'user', content: `Tool results so far:\n${toolLines.join('\n')}\n\nAnswer the question using them.` });
  }
  return { messages, used, memoryKeys };
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
