import { allocateLanes, buildContext, lanePlanner, laneSensitiveWeights, refineInstruction } from '../../core/context/index.js';
import { memoized } from '../../shared/bounded-memo.js';
import { canonicalJson, sha256Hex } from '../../shared/hash.js';
import { answerSignal, type AnswerSignal } from './answer-signal.js';
import { bestDraft, toolsOffered, type ExitReason } from '../../core/turn/index.js';
import { approvalStage } from './approval-stage.js';
import { draftStage } from './draft-stage.js';
import { faultExit, iterationExit } from './iteration-exit.js';
import { IterationWriteFailed, writeIterations } from './learn-and-store.js';
import type { IterationFacts } from './iteration-record.js';
import { scoreIteration } from './score-iteration.js';
import { toolStage } from './tool-stage.js';
import { armDeadline } from './turn-deadline.js';
import { resumeProgress } from './resume-progress.js';
import { isAwaitingApproval } from './tool-stage.js';
import { startProgress } from './turn-progress.js';
import type { PausedAt, TurnLoopDeps, TurnLoopInput, TurnLoopResult } from './types.js';

export { DeadlineError } from './turn-deadline.js';

/**
 * Inputs that cannot be re-measured on replay: the wall-clock latency of each iteration and whether
 * the deadline had passed after it. Live turns measure them; replay passes the recorded values.
 */
export interface RecordedMeasurements {
  latencyMs(iteration: number): number | undefined;
  deadlinePassed(iteration: number): boolean | undefined;
  /** The answer's recorded real signal (a judge need not answer the same twice). */
  answerSignal?(iteration: number): AnswerSignal | undefined;
}

/**
 * The RLM loop of SPEC §3.4: iterations `0 … max−1` of context → draft → tools → score → learn and
 * store → exit check. Each step is a function in a sibling file and each decision a plain function in
 * `core/`; this one only sequences them. It never throws for a model, tool or brain failure: the turn
 * ends with an exit reason and the best draft — or pauses at an iteration boundary when a call waits
 * for a person (`paused`). With `input.resume` it goes on after the committed iterations.
 */
export async function runTurnLoop(deps: TurnLoopDeps & { recorded?: RecordedMeasurements; recordedTokens?: (text: string) => number }, input: TurnLoopInput): Promise<TurnLoopResult> {
  const { model, tools, learner, clock, sink, recorded } = deps;
  const { settings } = input;
  const startedAt = clock.now();
  const deadline = armDeadline({ startedAt, deadlineMs: settings.deadlineMs, signal: deps.signal, timed: !recorded });
  // A write in flight that fails stops the iteration running beside it at once (its draft, its tools).
  const writeFailed = new AbortController();
  const signal = AbortSignal.any([deadline.signal, writeFailed.signal]);
  const budgets = allocateLanes({ totalTokens: settings.contextTokens, degraded: settings.degraded, memoryOff: settings.memoryOff });
  const counter = memoizedTokenCount(deps.recordedTokens ?? model.countTokens.bind(model));
  const countTokens = counter.count;
  const progress = input.resume ? resumeProgress(input.resume, input.startState) : startProgress(input.startState);
  // Which explored weights could change this turn's lane: only they are credited by the learning step.
  // The lane is the same on every iteration (same memories, weights and budget): worked out once.
  const laneOf = lanePlanner({ candidates: input.memories, tokenBudget: budgets.memory, countTokens });
  const laneSensitive = laneSensitiveWeights({ laneOf, weights: input.lane.weights, flipped: input.lane.flipped });
  let exitReason: ExitReason | undefined;
  let paused: PausedAt | undefined;
  let error: TurnLoopResult['error'];
  let iteration = progress.records.length;
  /** The previous iteration's output (the refine step's self-assessment reads its logprobs). */
  let previousOutput = progress.records.at(-1)?.llmOutput;
  /**
   * Iterations that went on and whose writes wait, at most `lingerMs` from the first of them, to go
   * with the next iterations' (one statement and one commit for all of them when the learner groups
   * writes), and the writes handed over that have not committed yet. Iterations still commit in order,
   * each before its `iteration.completed`; a tool runs, a call waits for a person and the loop ends
   * only once every iteration before is stored; the next model call overlaps the wait and the commit.
   */
  const lingerMs = deps.lingerMs ?? 0;
  let deferred: IterationFacts[] = [];
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  /** Hands the deferred iterations over (after the turn's start and the writes before them committed). */
  const flush = () => {
    if (lingerTimer !== undefined) clearTimeout(lingerTimer);
    lingerTimer = undefined;
    if (deferred.length === 0) return;
    const list = deferred;
    deferred = [];
    const before = inFlight;
    const committed = (async () => {
      await deps.started;
      await before;
      await writeIterations({ list, learner, sink, clock, progress });
    })();
    committed.catch((error: unknown) => writeFailed.abort(error));
    inFlight = committed;
  };
  /** Every iteration so far stored (the deferred ones handed over now). */
  const committedBefore = async () => {
    flush();
    const committed = inFlight;
    if (!committed) return;
    await committed;
    if (inFlight === committed) inFlight = undefined;
  };

  try {
    for (; iteration < settings.maxIterations; iteration++) {
      signal.throwIfAborted();
      const iterationStart = clock.now();
      sink.iterationStarted(iteration);

      // Context: the governor's lanes (system, history, memories, tool results, previous draft).
      const { systemPrompt, history, userMessage, memories } = input;
      const instruction = iteration === 0 ? undefined : refineInstruction(progress.signals, { selfAssessment: previousOutput?.logprobs === null });
      const context = buildContext({ systemPrompt, history, userMessage, memories, laneWeights: input.lane.weights, steps: progress.steps, instruction, iteration, budgets, countTokens, lane: laneOf(input.lane.weights) });
      const promptHash = sha256Hex(canonicalJson(context.messages));
      // Draft: one streamed model call (no tools on the last iteration: their results could not be used).
      const offered = toolsOffered({ iteration, maxIterations: settings.maxIterations, degraded: settings.degraded }) ? tools.definitions : [];
      const { output, replacedCharacters } = await draftStage({ model, messages: context.messages, tools: offered, settings, seed: input.seed, iteration, userMessage: input.userMessage, signal, onDelta: (text) => sink.delta(iteration, text) });
      // Tools: the model's calls, through validation, policy, breaker and timeout.
      const toolContext = { tenantId: input.tenantId, capsuleId: input.capsuleId, userId: input.userId, turnId: input.turnId, ...deps.toolContext, iteration, signal };
      // No call reaches a tool before the turn is stored as started, and the iterations before this one.
      if (output.toolCalls.length > 0) {
        await deps.started;
        await committedBefore();
      }
      const toolResults = await toolStage({ calls: output.toolCalls, tools, context: toolContext, sink, clock, progress });
      // Confidence and convergence.
      const latencyMs = recorded?.latencyMs(iteration) ?? Math.max(0, Math.round(clock.now() - iterationStart));
      // The answer's real signal (scorer, junk check): the reward's quality when there is one; a failed scorer check is a defect.
      const answer = await answerSignal({ output, userMessage, systemPrompt, iteration, ...(deps.scorer ? { scorer: deps.scorer } : {}), ...(recorded?.answerSignal ? { recorded: recorded.answerSignal(iteration) } : {}) });
      const score = scoreIteration({ turnId: input.turnId, iteration, output, outcomes: toolResults.outcomes.filter((o) => !isAwaitingApproval(o)), notes: toolResults.notes, memories: input.memories, latencyMs, prompt: { systemPrompt, userMessage }, ...(answer.scorerFeedback !== undefined ? { scorerFeedback: answer.scorerFeedback } : {}), progress });
      score.metrics = { ...score.metrics, lane_sensitive: laneSensitive, ...(answer.answerScore !== null ? { answer_score: answer.answerScore } : {}) };
      // Exit check, decided now and acted on once the iteration is stored.
      const deadlinePassed = recorded?.deadlinePassed(iteration) ?? clock.now() >= deadline.at;
      const decision = iterationExit({ iteration, settings, final: output.final, score, repeatedToolCall: toolResults.repeatedToolCall, deadline: { at: deadline.at, passed: deadlinePassed, startedAt }, progress });
      // Learn, and store the iteration with its event (in the learning step's transaction when the brain shares the database).
      const replaced = { model: replacedCharacters, tools: toolResults.replacedCharacters };
      const facts = { iteration, output, modelId: model.id, context, promptHash, tokenCounts: counter.drain(), signal: answer, laneSensitive, tools: toolResults, score, decision, latencyMs, deadlinePassed, tokensUsed: progress.tokensUsed, memories: input.memories, settings, startedAt: iterationStart, replaced };
      previousOutput = output;
      deferred.push(facts);
      // An iteration that goes on, with no call waiting for a person, need not hold the next one back:
      // its write waits for the next ones' (or goes at once without a linger), its events keep their place.
      const goesOn = decision === 'continue' && sink.deferCompletion !== undefined && iteration + 1 < settings.maxIterations && !toolResults.outcomes.some(isAwaitingApproval);
      if (goesOn) {
        sink.deferCompletion!(iteration);
        if (lingerMs <= 0) flush();
        else lingerTimer ??= setTimeout(flush, lingerMs);
        continue;
      }
      await committedBefore();
      if (decision !== 'continue') {
        exitReason = decision;
        break;
      }
      // Approvals: calls waiting for a person pause the turn here, after the stored iteration.
      paused = await approvalStage({ iteration, outcomes: toolResults.outcomes, gate: deps.approvals, progress });
      if (paused) break;
    }
    await committedBefore();
    if (!paused) exitReason ??= 'max_iterations';
  } catch (thrown) {
    paused = undefined;
    let cause = thrown;
    let at = iteration;
    let writeLost = false;
    // Iterations drafted and decided but not written yet happened: they are stored (unless a write failed).
    if (!writeFailed.signal.aborted && !(thrown instanceof IterationWriteFailed)) flush();
    else deferred = [];
    // A write still in flight settles first: when it failed, that is the turn's fault (its iteration is
    // not stored), whatever stopped the iteration beside it (the failure itself, a deadline, a cancel).
    if (inFlight) {
      const failed = inFlight;
      inFlight = undefined;
      await failed.catch((writeError: unknown) => {
        if (writeError instanceof IterationWriteFailed) {
          cause = writeError.cause;
          at = writeError.iteration;
          writeLost = true;
        } else cause = writeError;
        sink.dropHeld?.();
      });
    }
    ({ exitReason, error } = writeLost
      ? faultExit(cause, { deadlineReached: false, cancelled: false, iteration: at })
      : faultExit(cause, { deadlineReached: deadline.reached(), cancelled: deps.signal?.aborted ?? false, abortReason: deps.signal?.reason, iteration: at }));
  } finally {
    if (lingerTimer !== undefined) clearTimeout(lingerTimer);
    deadline.stop();
  }

  const ended = { iterations: progress.records, best: bestDraft(progress.records), error, tokensUsed: progress.tokensUsed, toolsUsed: [...progress.toolsUsed] };
  return paused ? { ...ended, paused } : { ...ended, exitReason: exitReason ?? 'max_iterations' };
}

/**
 * The same history, memories and drafts are counted every iteration: count each text once per turn.
 * `drain` hands over the counts taken since its last call (by text hash), which the iteration records so
 * replay counts exactly as the live model's tokenizer did (`tokenCountOf`).
 */
function memoizedTokenCount(count: (text: string) => number): { count: (text: string) => number; drain: () => Record<string, number> } {
  const counts = new Map<string, number>();
  let fresh: Record<string, number> = {};
  return {
    count: (text) => {
      let tokens = counts.get(text);
      if (tokens === undefined) {
        tokens = count(text);
        counts.set(text, tokens);
        fresh[textKey(text)] = tokens;
      }
      return tokens;
    },
    drain: () => {
      const out = fresh;
      fresh = {};
      return out;
    },
  };
}

/** The key a text's recorded token count is stored under (the first 16 hex digits of its SHA-256). */
export function textKey(text: string): string {
  // The recalled memories and the system prompt come back turn after turn: each hashed once (texts of
  // up to 4 KB, at most 2,048 of them: ≤ 8 MB kept).
  if (text.length > 4_096) return sha256Hex(text).slice(0, 16);
  return memoized(textKeys, text, 2_048, (t) => sha256Hex(t).slice(0, 16));
}
const textKeys = new Map<string, string>();

/** A token counter that answers from recorded counts (by `textKey`) and counts the rest with `fallback`. */
export function tokenCountOf(recorded: Record<string, number>, fallback: (text: string) => number): (text: string) => number {
  return (text) => recorded[textKey(text)] ?? fallback(text);
}
