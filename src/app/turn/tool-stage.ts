import { isRepeatedToolCall } from '../../core/tools/index.js';
import type { ToolCall } from '../../ports/chat-model.js';
import type { Clock } from '../../ports/clock.js';
import type { ToolContext, ToolOutcome, ToolSet } from '../../ports/tools.js';
import { traceToolOutcome } from './tracing.js';
import type { TurnProgress } from './turn-progress.js';
import type { TurnSink } from './types.js';

export interface ToolStageResult {
  outcomes: ToolOutcome[];
  /** A call repeated an earlier call of the turn (same tool, same arguments): loop detection. */
  repeatedToolCall: boolean;
}

const repeatedCallError = 'repeated call: the same tool with the same arguments was already called in this turn';

/**
 * Runs the model's tool calls of one iteration (SPEC §6); a call repeated from earlier in the turn is
 * not run again but answered with an error. Outcomes stream to the sink and feed the next context.
 */
export async function toolStage({
  calls,
  tools,
  context,
  sink,
  clock,
  progress,
}: {
  calls: ToolCall[];
  tools: Pick<ToolSet, 'run'>;
  context: ToolContext;
  sink: TurnSink;
  clock: Clock;
  progress: TurnProgress;
}): Promise<ToolStageResult> {
  const { iteration } = context;
  const repeatedToolCall = calls.some((call) => isRepeatedToolCall(progress.calledTools, call));
  if (calls.length === 0) return { outcomes: [], repeatedToolCall };
  for (const call of calls) sink.toolCall(iteration, call);
  const fresh = calls.filter((call) => !isRepeatedToolCall(progress.calledTools, call));
  const repeated = calls.filter((call) => isRepeatedToolCall(progress.calledTools, call));
  const ran =
    fresh.length > 0
      ? await tools.run(fresh, context, (outcome) => {
          traceToolOutcome(outcome, iteration, clock.now());
          sink.toolResult(iteration, outcome);
        })
      : [];
  const skipped = repeated.map((call): ToolOutcome => {
    const outcome: ToolOutcome = { callId: call.callId, name: call.name, args: call.args, ok: false, outcome: 'error', error: repeatedCallError, latency_ms: 0 };
    sink.toolResult(iteration, outcome);
    return outcome;
  });
  const outcomes = [...ran, ...skipped];
  progress.calledTools.push(...calls);
  for (const outcome of outcomes) {
    progress.toolsRun++;
    if (outcome.ok) progress.toolsOk++;
    progress.toolsUsed.add(outcome.name);
    progress.toolNotes.push({ name: outcome.name, args: outcome.args, ok: outcome.ok, text: outcome.ok ? JSON.stringify(outcome.result ?? null) : (outcome.error ?? outcome.outcome) });
  }
  return { outcomes, repeatedToolCall };
}
