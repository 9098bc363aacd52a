import type { ToolResultNote } from '../../core/context/index.js';
import { isRepeatedToolCall } from '../../core/tools/index.js';
import { numericResultsOf } from '../../core/turn/index.js';
import type { ToolCall } from '../../ports/chat-model.js';
import type { Clock } from '../../ports/clock.js';
import type { ToolContext, ToolOutcome, ToolSet } from '../../ports/tools.js';
import { canonicalJson } from '../../shared/hash.js';
import { cleanJson } from '../../shared/text-hygiene.js';
import { traceToolOutcome } from './tracing.js';
import type { TurnProgress } from './turn-progress.js';
import type { TurnSink } from './types.js';

export interface ToolStageResult {
  outcomes: ToolOutcome[];
  /** The outcomes as the next iteration's prompt shows them (one per call). */
  notes: ToolResultNote[];
  /** A call repeated an earlier call of the turn (same tool, same arguments): loop detection. */
  repeatedToolCall: boolean;
  /** Characters of the tools' output PostgreSQL could not store, replaced by U+FFFD. */
  replacedCharacters: number;
}

const repeatedCallError = 'repeated call: the same tool with the same arguments was already called in this turn';

/** Whether a call is still waiting for a person (SPEC §13.4): not run, not yet an outcome the model sees. */
export const isAwaitingApproval = (outcome: ToolOutcome) => outcome.outcome === 'awaiting_approval';

/**
 * Counts settled outcomes into the turn's progress (tool success, tools used). Calls still awaiting
 * approval are left out: they count once decided.
 */
export function recordOutcomes(progress: TurnProgress, outcomes: readonly ToolOutcome[]): void {
  for (const outcome of outcomes) {
    if (isAwaitingApproval(outcome)) continue;
    progress.toolsRun++;
    if (outcome.ok) progress.toolsOk++;
    progress.toolsUsed.add(outcome.name);
  }
}

/**
 * Adds the decided outcomes of an iteration's calls that awaited approval to what the next
 * iteration's prompt shows (the iteration's step: its tool messages) and to the turn's numeric results.
 */
export function recordDecidedOutcomes(progress: TurnProgress, stepIndex: number, decided: readonly ToolOutcome[]): void {
  recordOutcomes(progress, decided);
  const step = progress.steps[stepIndex];
  if (step) progress.steps[stepIndex] = { ...step, results: [...step.results, ...settledNotes(decided)] };
  for (const outcome of decided) {
    const [value] = numericResultsOf([outcome]);
    if (value !== undefined) progress.numericResults.push({ name: outcome.name, args: outcome.args, value });
  }
}

/**
 * Runs the model's tool calls of one iteration (SPEC §6); a call repeated from earlier in the turn is
 * not run again but answered with an error. Outcomes stream to the sink and feed the next context;
 * a call that needs a person's approval comes back `awaiting_approval` (not run, not streamed).
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
  if (calls.length === 0) return { outcomes: [], notes: [], repeatedToolCall, replacedCharacters: 0 };
  for (const call of calls) sink.toolCall(iteration, call);
  const fresh = calls.filter((call) => !isRepeatedToolCall(progress.calledTools, call));
  const repeated = calls.filter((call) => isRepeatedToolCall(progress.calledTools, call));
  let replacedCharacters = 0;
  const clean = (outcome: ToolOutcome) => {
    const cleaned = cleanJson(outcome);
    replacedCharacters += cleaned.replaced;
    return cleaned.value;
  };
  const ran =
    fresh.length > 0
      ? (
          await tools.run(fresh, context, (outcome) => {
            traceToolOutcome(outcome, iteration, clock.now());
            if (!isAwaitingApproval(outcome)) sink.toolResult(iteration, clean(outcome));
          })
        ).map((outcome) => cleanJson(outcome).value)
      : [];
  const skipped = repeated.map((call): ToolOutcome => {
    const outcome: ToolOutcome = { callId: call.callId, name: call.name, args: call.args, ok: false, outcome: 'error', error: repeatedCallError, latency_ms: 0 };
    sink.toolResult(iteration, outcome);
    return outcome;
  });
  const outcomes = [...ran, ...skipped];
  progress.calledTools.push(...calls);
  recordOutcomes(progress, outcomes);
  return { outcomes, notes: settledNotes(outcomes), repeatedToolCall, replacedCharacters };
}

/**
 * How one outcome reads in the next prompt's tool message: the result's JSON, or the error. The JSON
 * has its keys sorted: the stored result (jsonb) does not keep the tool's key order, and a replay must
 * build the same prompt from it as the live turn did.
 */
export function toolNote(outcome: ToolOutcome): ToolResultNote {
  return { callId: outcome.callId, name: outcome.name, args: outcome.args, ok: outcome.ok, text: outcome.ok ? canonicalJson(outcome.result ?? null) : (outcome.error ?? outcome.outcome) };
}

/** The notes of the settled outcomes (a call still awaiting approval has none yet). */
export function settledNotes(outcomes: readonly ToolOutcome[]): ToolResultNote[] {
  return outcomes.filter((outcome) => !isAwaitingApproval(outcome)).map(toolNote);
}
