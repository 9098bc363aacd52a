import type { ChatModel, LlmOutput, ModelStreamPart } from '../../ports/chat-model.js';
import { SomaError, type ErrorCode } from '../../shared/errors.js';
import { DeadlineError, InterruptedError } from '../turn/index.js';

/** How a recorded turn ended after its last recorded iteration (what the next call must do). */
export type RecordedEnding =
  | { kind: 'none' }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'cancelled' }
  | { kind: 'interrupted' }
  | { kind: 'deadline' };

/**
 * A model that plays back a turn's recorded `llm_output`s: iteration k yields exactly what was
 * recorded. Past the recorded iterations it ends the way the turn ended (error, cancel, deadline).
 * Tokens are counted with `countTokens` (the composition root passes the o200k tiktoken counter).
 */
export function createRecordedModel({ id, outputs, ending, countTokens }: { id: string; outputs: readonly LlmOutput[]; ending: RecordedEnding; countTokens: (text: string) => number }): ChatModel {
  return {
    id,
    capabilities: { tools: true, logprobs: true, seed: true, streaming: true },
    countTokens,
    async *stream(options): AsyncIterable<ModelStreamPart> {
      const iteration = options.turn?.iteration ?? 0;
      const output = outputs[iteration];
      if (!output) {
        if (ending.kind === 'error') throw new SomaError(ending.code as ErrorCode, ending.message);
        if (ending.kind === 'cancelled') throw new DOMException('the recorded turn was cancelled here', 'AbortError');
        if (ending.kind === 'interrupted') throw new InterruptedError('the recorded turn was interrupted here');
        if (ending.kind === 'deadline') throw new DeadlineError('the recorded turn reached its deadline here');
        throw new SomaError('LLM_FAILED', `no recorded model output for iteration ${iteration}`);
      }
      if (output.text) yield { type: 'text-delta', text: output.text };
      for (const call of output.toolCalls) yield { type: 'tool-call', call };
      yield { type: 'finish', output };
    },
  };
}
