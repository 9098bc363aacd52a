import { buildContext, allocateLanes, type ToolResultNote } from '../../core/context/index.js';
import { textSimilarity } from '../../core/learning/index.js';
import { isRepeatedToolCall } from '../../core/tools/index.js';
import {
  bestDraft,
  confidenceOf,
  convergenceScore,
  decideExit,
  isBudgetExhausted,
  isRepeatedDraft,
  type ExitReason,
} from '../../core/turn/index.js';
import type { LlmOutput, ToolCall } from '../../ports/chat-model.js';
import type { LearnedState, TurnMetrics, Weights } from '../../ports/learning.js';
import type { ToolOutcome } from '../../ports/tools.js';
import { isSomaError } from '../../shared/errors.js';
import { weightNames } from '../../ports/learning.js';
import { traceModelCall, traceToolOutcome } from './tracing.js';
import type { IterationRecord, LearnResult, TurnLoopDeps, TurnLoopInput, TurnLoopResult } from './types.js';

/** Thrown (by replay) or raised (by the deadline timer) when the turn's time is up mid-call. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * Inputs that cannot be re-measured on replay: the wall-clock latency of each iteration and whether
 * the deadline had passed after it. Live turns measure them; replay passes the recorded values.
 */
export interface RecordedMeasurements {
  latencyMs(iteration: number): number | undefined;
  deadlinePassed(iteration: number): boolean | undefined;
}

/**
 * The RLM loop of SPEC §3: iterations `0 … max−1` of draft → tools → score → learn → store → exit check.
 * Each decision is a plain function in `core/turn`; this function only sequences them. It never
 * throws for a model, tool or brain failure: the turn ends with an exit reason and the best draft.
 */
export async function runTurnLoop(deps: TurnLoopDeps & { recorded?: RecordedMeasurements }, input: TurnLoopInput): Promise<TurnLoopResult> {
  const { model, tools, learner, clock, sink, recorded } = deps;
  const { settings } = input;
  const startedAt = clock.now();
  const deadline = startedAt + settings.deadlineMs;
  const budgets = allocateLanes({ totalTokens: settings.contextTokens, degraded: settings.degraded, memoryOff: settings.memoryOff });
  const toolDefinitions = settings.degraded ? [] : tools.definitions;

  const deadlineController = new AbortController();
  const timer = recorded ? undefined : setTimeout(() => deadlineController.abort(new DeadlineError('turn deadline reached')), settings.deadlineMs);
  timer?.unref?.();
  const signal = deps.signal ? AbortSignal.any([deps.signal, deadlineController.signal]) : deadlineController.signal;

  // The same history, memories and drafts are counted every iteration: count each text once per turn.
  const tokenCounts = new Map<string, number>();
  const countTokens = (text: string): number => {
    let count = tokenCounts.get(text);
    if (count === undefined) {
      count = model.countTokens(text);
      tokenCounts.set(text, count);
    }
    return count;
  };
  const records: IterationRecord[] = [];
  const drafts: string[] = [];
  const scores: number[] = [];
  const calledTools: ToolCall[] = [];
  const toolNotes: ToolResultNote[] = [];
  const toolsUsed = new Set<string>();
  let toolsRun = 0;
  let toolsOk = 0;
  let tokensUsed = 0;
  let state: LearnedState = input.startState;
  let exitReason: ExitReason | undefined;
  let error: TurnLoopResult['error'];
  let iteration = 0;

  try {
    for (iteration = 0; iteration < settings.maxIterations; iteration++) {
      signal.throwIfAborted();
      const iterationStart = clock.now();
      sink.iterationStarted(iteration);

      const context = buildContext({
        systemPrompt: input.systemPrompt,
        history: input.history,
        userMessage: input.userMessage,
        memories: input.memories,
        toolResults: toolNotes,
        previousDraft: drafts[drafts.length - 1],
        iteration,
        budgets,
        countTokens,
      });

      const output = await traceModelCall({ model: model.id, iteration, seed: input.seed, temperature: settings.temperature, maxOutputTokens: settings.maxOutputTokens }, () =>
        collectOutput(
          model.stream({
            messages: context.messages,
            tools: toolDefinitions,
            seed: input.seed,
            temperature: settings.temperature,
            maxOutputTokens: settings.maxOutputTokens,
            signal,
            turn: { userMessage: input.userMessage, iteration },
          }),
          (text) => sink.delta(iteration, text),
        ),
      );

      // Tools: run the model's calls (a call repeated from earlier in the turn is not run again).
      const calls = output.toolCalls;
      const repeatedToolCall = calls.some((call) => isRepeatedToolCall(calledTools, call));
      let outcomes: ToolOutcome[] = [];
      if (calls.length > 0) {
        for (const call of calls) sink.toolCall(iteration, call);
        const fresh = calls.filter((call) => !isRepeatedToolCall(calledTools, call));
        const repeated = calls.filter((call) => isRepeatedToolCall(calledTools, call));
        const ran = fresh.length > 0
          ? await tools.run(fresh, { ...defaultToolContext(input), ...deps.toolContext, iteration, signal }, (outcome) => {
              traceToolOutcome(outcome, iteration);
              sink.toolResult(iteration, outcome);
            })
          : [];
        const skipped = repeated.map((call): ToolOutcome => {
          const outcome: ToolOutcome = { callId: call.callId, name: call.name, args: call.args, ok: false, outcome: 'error', error: 'repeated call: the same tool with the same arguments was already called in this turn', latency_ms: 0 };
          sink.toolResult(iteration, outcome);
          return outcome;
        });
        outcomes = [...ran, ...skipped];
        calledTools.push(...calls);
        for (const outcome of outcomes) {
          toolsRun++;
          if (outcome.ok) toolsOk++;
          toolsUsed.add(outcome.name);
          toolNotes.push({ name: outcome.name, args: outcome.args, ok: outcome.ok, text: outcome.ok ? JSON.stringify(outcome.result ?? null) : (outcome.error ?? outcome.outcome) });
        }
      }

      const content = output.text;
      const previousDraft = drafts[drafts.length - 1];
      const stability = previousDraft === undefined ? null : textSimilarity(previousDraft, content);
      const confidence = confidenceOf(output);
      const toolCallsPending = calls.length > 0;
      const turnToolSuccess = toolsRun === 0 ? 1 : toolsOk / toolsRun;
      const score = convergenceScore({ confidence, stability, toolSuccessRate: turnToolSuccess, toolCallsPending });
      const repeatedDraft = !toolCallsPending && isRepeatedDraft(drafts, content);
      drafts.push(content);
      scores.push(score);
      tokensUsed += output.usage.promptTokens + output.usage.completionTokens;

      const latencyMs = recorded?.latencyMs(iteration) ?? Math.max(0, Math.round(clock.now() - iterationStart));
      const iterationTools = outcomes.length;
      const iterationToolsOk = outcomes.filter((o) => o.ok).length;
      const novelty = input.memories.length === 0 ? 1 : 1 - Math.max(...input.memories.map((m) => textSimilarity(m.content, content)));
      const metrics: TurnMetrics = {
        turn_id: input.turnId,
        iteration_number: iteration,
        tools_used: [...new Set(outcomes.map((o) => o.name))],
        confidence,
        convergence_score: score,
        tool_success_rate: iterationTools === 0 ? 1 : iterationToolsOk / iterationTools,
        latency_ms: latencyMs,
        prompt_tokens: output.usage.promptTokens,
        completion_tokens: output.usage.completionTokens,
        novelty,
      };


      const deadlinePassed = recorded?.deadlinePassed(iteration) ?? clock.now() >= deadline;
      const decision = decideExit({
        iteration,
        minIterations: settings.minIterations,
        maxIterations: settings.maxIterations,
        threshold: settings.threshold,
        scores,
        final: output.final,
        toolCallsPending,
        loopDetected: repeatedToolCall || repeatedDraft,
        budgetExhausted: isBudgetExhausted({ tokenBudget: settings.tokenBudget, deadline }, { tokensUsed, now: deadlinePassed ? deadline : startedAt }),
      });

      const buildRecord = (learned: LearnResult): IterationRecord => {
        const before = learned.status === 'skipped' ? state : learned.before;
        const after = learned.status === 'skipped' ? state : learned.after;
        return {
        iteration,
        content,
        llmOutput: output,
        model: output.model || model.id,
        confidence,
        convergenceScore: score,
        exitReason: decision,
        weightsBefore: before.weights,
        weightsAfter: after.weights,
        weightDeltas: deltas(before.weights, after.weights),
        neuromodulatorsBefore: before.neuromodulators,
        neuromodulatorsAfter: after.neuromodulators,
        toolCalls: calls,
        toolResults: outcomes,
        promptTokens: output.usage.promptTokens,
        completionTokens: output.usage.completionTokens,
        latencyMs,
        startedAt: new Date(iterationStart),
        completedAt: new Date(clock.now()),
        metadata: {
          learning: learned.status,
          ...(learned.status === 'skipped'
            ? { learning_error: learned.reason }
            : { reward: learned.reward, advantage: learned.advantage, learning_seq: learned.seq, learning_before: learned.before }),
          metrics,
          stability,
          tool_success_rate: turnToolSuccess,
          loop: { repeated_tool_call: repeatedToolCall, repeated_draft: repeatedDraft },
          memories: input.memories,
          context: { ...context.used, memories_in_lane: context.memoryKeys.length },
          degraded: settings.degraded,
          deadline_passed: deadlinePassed,
          tokens_used: tokensUsed,
          policy_decisions: outcomes
            .filter((o) => o.policy)
            .map((o) => ({ call_id: o.callId, tool: o.name, allow: o.policy!.allow, engine: o.policy!.engine, ...(o.policy!.reason ? { reason: o.policy!.reason } : {}) })),
        },
      };
      };
      const persisted: IterationRecord[] = [];
      const learned = await learner.learn({
        iteration,
        metrics,
        persist: async (result, transaction) => {
          const built = buildRecord(result);
          await sink.saveIteration(built, transaction);
          persisted.push(built);
        },
      });
      const record = persisted[0];
      if (!record) throw new Error('the learner did not persist the iteration');
      if (learned.status !== 'skipped') state = learned.after;
      records.push(record);
      sink.iterationCompleted(record);
      if (decision !== 'continue') {
        exitReason = decision;
        break;
      }
    }
    exitReason ??= 'max_iterations';
  } catch (cause) {
    if (deadlineController.signal.aborted || (cause as Error)?.name === 'DeadlineError') {
      exitReason = 'budget_exhausted';
    } else if (deps.signal?.aborted || (cause as Error)?.name === 'AbortError') {
      exitReason = 'cancelled';
    } else {
      exitReason = 'error';
      error = {
        code: isSomaError(cause) ? cause.code : 'INTERNAL',
        message: (cause as Error)?.message ?? String(cause),
        iteration,
      };
    }
  } finally {
    if (timer) clearTimeout(timer);
  }

  return { iterations: records, exitReason, best: bestDraft(records.map((r) => ({ ...r, content: r.content }))) as IterationRecord | undefined, error, tokensUsed, toolsUsed: [...toolsUsed] };
}

function defaultToolContext(input: TurnLoopInput) {
  return { tenantId: input.tenantId, capsuleId: input.capsuleId, userId: input.userId, turnId: input.turnId };
}

async function collectOutput(stream: AsyncIterable<import('../../ports/chat-model.js').ModelStreamPart>, onDelta: (text: string) => void): Promise<LlmOutput> {
  for await (const part of stream) {
    if (part.type === 'text-delta') onDelta(part.text);
    else if (part.type === 'finish') return part.output;
  }
  throw new Error('the model stream ended without a finish part');
}

function deltas(before: Weights, after: Weights): Weights {
  const out = {} as Weights;
  for (const name of weightNames) out[name] = after[name] - before[name];
  return out;
}
