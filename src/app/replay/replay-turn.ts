import { learningStep, resolveLearningConfig, type LearningConfig } from '../../core/learning/index.js';
import type { LearningUpdateRecord } from '../../ports/store.js';
import { bestDraft } from '../../core/turn/index.js';
import type { LearnedState, Weights } from '../../ports/learning.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext } from '../context.js';
import { runTurnLoop, type IterationMetadata, type IterationRecord, type Learner, type LearnResult, type TurnSettings } from '../turn/index.js';
import { createRecordedModel, type RecordedEnding } from './recorded-model.js';
import { replayFeedback } from './replay-feedback.js';
import { sameValue } from './same-value.js';

export { sameValue } from './same-value.js';
import { replayPrompt, type RecordedTurnSettings } from './replay-inputs.js';
import type { ReplayDifference } from './replay-difference.js';

export type { ReplayDifference };

export interface ReplayReport {
  turn_id: string;
  identical: boolean;
  counterfactual: boolean;
  recorded: { iterations: number; exit_reason: string | null; answer_iteration: number | null };
  replayed: { iterations: number; exit_reason: string; answer_iteration: number | null; final_weights: Weights | null };
  differences: ReplayDifference[];
  /** Iterations whose learning started from a state another turn had moved (interleaved turns). */
  interleaved: number[];
}

/** Counterfactual settings: loop settings by name, anything else is a learning constant. */
export type ReplayOverrides = Record<string, number | string | boolean>;

const settingKeys: Record<string, keyof TurnSettings> = {
  threshold: 'threshold',
  convergence_threshold: 'threshold',
  max_iterations: 'maxIterations',
  min_iterations: 'minIterations',
  token_budget: 'tokenBudget',
};

/**
 * Re-runs a recorded turn through the same loop code from its recorded inputs (start state, seed,
 * `llm_output`s, tool results, measured latencies and answer scores, the learning history's
 * before-states and each step's learning config) and compares every iteration's weights,
 * neuromodulators, confidence, convergence score and exit reason exactly. The prompt is rebuilt from the
 * record — the system prompt and history the turn saw, its user message, its recalled memories and lane
 * weights — and its hash compared with each iteration's `prompt_hash`. The turn's feedback steps are
 * recomputed from their recorded inputs. With `overrides` it runs counterfactually. It never writes.
 */
export async function replayTurn(
  { store, clock, countTokens }: Pick<AppContext, 'store' | 'clock' | 'countTokens'>,
  { turnId, tenantId, overrides = {} }: { turnId: string; tenantId?: string; overrides?: ReplayOverrides },
): Promise<Result<ReplayReport, Failure>> {
  const turn = await store.turns.find(turnId);
  if (!turn || (tenantId && turn.tenantId !== tenantId)) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  if (turn.status === 'running') return refuse('CONFLICT', `turn ${turnId} is still running`);
  if (turn.status === 'awaiting_approval') return refuse('CONFLICT', `turn ${turnId} is waiting for an approval`);
  const rows = await store.iterations.listByTurn(turnId);
  const approvals = await store.approvals.listByTurn(turnId);
  const updates = await store.learningUpdates.listByTurn(turnId);
  const counterfactual = Object.keys(overrides).length > 0;

  const recordedSettings = turn.settings as unknown as TurnSettings & RecordedTurnSettings;
  const settings: TurnSettings = { ...recordedSettings };
  const learningOverrides: Record<string, unknown> = { ...(recordedSettings.learning_config ?? {}) };
  for (const [key, value] of Object.entries(overrides)) {
    const setting = settingKeys[key];
    if (setting) (settings as unknown as Record<string, unknown>)[setting] = Number(value);
    else learningOverrides[key] = value;
  }
  if (settings.minIterations > settings.maxIterations) settings.minIterations = settings.maxIterations;
  const config = resolveLearningConfig(Object.keys(learningOverrides).length === 0 ? undefined : learningOverrides);
  // Each step learned with the capsule's learning_config at step time (the ledger records it); a counterfactual's overrides go on top.
  const counterfactualOverrides = Object.fromEntries(Object.entries(overrides).filter(([key]) => !settingKeys[key]));
  const configAt = (update: LearningUpdateRecord | undefined): LearningConfig => {
    const atStep = update?.inputs.learning_config as Record<string, unknown> | undefined;
    if (!atStep) return config;
    const merged = { ...atStep, ...counterfactualOverrides };
    return resolveLearningConfig(Object.keys(merged).length === 0 ? undefined : merged);
  };

  const firstMeta = rows[0]?.metadata as IterationMetadata | undefined;
  const startState: LearnedState = {
    weights: turn.weightsStart,
    neuromodulators: turn.neuromodulatorsStart,
    rewardBaseline: recordedSettings.reward_baseline_start ?? firstMeta?.learning_before?.rewardBaseline ?? config.initial_reward_baseline,
  };
  const firstStep = updates.find((u) => u.kind === 'learn' && u.source !== 'feedback');
  if (firstStep && Object.keys(firstStep.evidenceBefore).length > 0) startState.evidence = firstStep.evidenceBefore;
  const turnError = turn.error;
  const ending: RecordedEnding =
    turn.exitReason === 'error' && turnError ? { kind: 'error', code: turnError.code, message: turnError.message }
    : turn.exitReason === 'cancelled' ? { kind: 'cancelled' }
    : turn.exitReason === 'interrupted' ? { kind: 'interrupted' }
    : turn.exitReason === 'budget_exhausted' ? { kind: 'deadline' }
    : { kind: 'none' };

  const recordedBefore = new Map<number, RecordedStep>();
  const stepConfigs = new Map<number, LearningConfig>();
  for (const row of rows) {
    const meta = row.metadata as IterationMetadata;
    const update = updates.find((u) => u.iterationNumber === row.iterationNumber && u.kind === 'learn' && u.source !== 'feedback');
    const before: LearnedState | undefined = update
      ? { weights: update.weightsBefore, neuromodulators: update.neuromodulatorsBefore, rewardBaseline: update.baselineBefore, ...(Object.keys(update.evidenceBefore).length > 0 ? { evidence: update.evidenceBefore } : {}) }
      : meta.learning_before;
    recordedBefore.set(row.iterationNumber, { status: meta.learning, ...(before ? { before } : {}) });
    stepConfigs.set(row.iterationNumber, configAt(update));
  }

  const prompt = await replayPrompt(store, { turn, rows, config, counterfactual, countTokens });
  const learner = createReplayLearner({ config, configs: stepConfigs, seed: turn.seed, startState, recorded: counterfactual ? undefined : recordedBefore });
  const replayed: IterationRecord[] = [];
  const result = await runTurnLoop(
    {
      model: createRecordedModel({ id: recordedSettings.model ?? rows[0]?.model ?? 'recorded', outputs: rows.map((r) => r.llmOutput), ending, countTokens }),
      tools: {
        definitions: [],
        run: async (calls) => {
          const iteration = replayed.length;
          const recordedResults = rows[iteration]?.toolResults ?? [];
          return calls.map(
            (call) =>
              recordedResults.find((o) => o.callId === call.callId) ?? { callId: call.callId, name: call.name, args: call.args, ok: false, outcome: 'error', error: 'no recorded result for this call', latency_ms: 0 },
          );
        },
      },
      learner,
      clock,
      // Calls that waited for a person: the outcome their decision produced, as recorded.
      approvals: {
        resolve: async (iteration, awaiting) => {
          const decided = awaiting.map((call) => approvals.find((a) => a.iterationNumber === iteration && a.callId === call.callId)?.outcome);
          return decided.every((outcome) => outcome) ? (decided as ToolOutcome[]) : undefined;
        },
      },
      sink: { iterationStarted: () => undefined, delta: () => undefined, toolCall: () => undefined, toolResult: () => undefined, saveIteration: async (r) => void replayed.push(r), iterationCompleted: () => undefined },
      recorded: {
        latencyMs: (k) => rows[k]?.latencyMs,
        deadlinePassed: (k) => (rows[k]?.metadata as IterationMetadata | undefined)?.deadline_passed ?? false,
        answerSignal: (k) => {
          const meta = rows[k]?.metadata as IterationMetadata | undefined;
          if (!meta || !('answer_score' in meta)) return undefined;
          return { answerScore: meta.answer_score ?? null, ...(meta.junk ? { junk: meta.junk as 'empty' | 'truncated' | 'echo' } : {}), ...(meta.scorer_feedback !== undefined ? { scorerFeedback: meta.scorer_feedback } : {}) };
        },
      },
      recordedTokens: prompt.countTokens,
    },
    {
      turnId: turn.id,
      tenantId: turn.tenantId,
      capsuleId: turn.capsuleId,
      userId: turn.userId,
      seed: turn.seed,
      systemPrompt: prompt.systemPrompt,
      history: prompt.history,
      userMessage: prompt.userMessage,
      memories: prompt.memories,
      lane: prompt.lane,
      settings,
      startState,
    },
  );

  const differences: ReplayDifference[] = [];
  const interleaved: number[] = [];
  const count = Math.max(rows.length, replayed.length);
  for (let k = 0; k < count; k++) {
    const row = rows[k];
    const again = replayed[k];
    if (!row || !again) {
      differences.push({ iteration: k, field: 'iteration', recorded: row ? 'present' : 'absent', replayed: again ? 'present' : 'absent' });
      continue;
    }
    compare(differences, k, 'weights_after', row.weightsAfter, again.weightsAfter);
    compare(differences, k, 'neuromodulators_after', row.neuromodulatorsAfter, again.neuromodulatorsAfter);
    compare(differences, k, 'weights_before', row.weightsBefore, again.weightsBefore);
    compare(differences, k, 'confidence', row.confidence, again.confidence);
    compare(differences, k, 'convergence_score', row.convergenceScore, again.convergenceScore);
    // The loop's own decision: a turn's exit recorded on its last iteration afterwards keeps it in `decided`.
    compare(differences, k, 'exit_reason', (row.metadata as IterationMetadata).decided ?? row.exitReason, again.exitReason);
    const recordedHash = (row.metadata as IterationMetadata).prompt_hash;
    if (recordedHash !== undefined) compare(differences, k, 'prompt_hash', recordedHash, again.metadata.prompt_hash);
    const previous = rows[k - 1];
    if (previous && !sameValue(previous.weightsAfter, row.weightsBefore)) interleaved.push(k);
  }
  compare(differences, 'turn', 'exit_reason', turn.exitReason, result.exitReason ?? 'paused');
  if (!counterfactual) for (const d of replayFeedback(updates, config)) differences.push(d);
  const recordedAnswer = bestDraft(rows.map((r) => ({ iteration: r.iterationNumber, content: r.content, convergenceScore: r.convergenceScore })))?.iteration ?? null;
  return ok({
    turn_id: turn.id,
    identical: differences.length === 0,
    counterfactual,
    recorded: { iterations: rows.length, exit_reason: turn.exitReason, answer_iteration: recordedAnswer },
    replayed: { iterations: replayed.length, exit_reason: result.exitReason ?? 'paused', answer_iteration: result.best?.iteration ?? null, final_weights: replayed[replayed.length - 1]?.weightsAfter ?? null },
    differences,
    interleaved,
  });
}

/**
 * The learner of replay: the pure learning step. It starts each iteration from the before-state the
 * capsule's history recorded for it (other turns may have learned in between), or — counterfactually —
 * from the previous iteration's after-state. An iteration whose learning was skipped stays skipped.
 */
export function createReplayLearner({
  config,
  configs,
  seed,
  startState,
  recorded,
}: {
  config: LearningConfig;
  /** The learning config of each iteration's step (from the ledger); `config` for the others. */
  configs?: Map<number, LearningConfig>;
  seed: number;
  startState: LearnedState;
  recorded?: Map<number, RecordedStep>;
}): Learner {
  let state = startState;
  return {
    async learn({ iteration, metrics, persist }): Promise<LearnResult> {
      const entry = recorded?.get(iteration);
      let result: LearnResult;
      if (entry?.status === 'skipped') result = { status: 'skipped', reason: 'skipped when recorded' };
      else {
        const before = entry?.before ?? state;
        const step = learningStep({ state: before, metrics: { ...metrics, seed }, config: configs?.get(iteration) ?? config, creditExploration: iteration === 0 });
        state = step.state;
        result = { status: step.learned ? 'applied' : 'gated', before, after: step.state, reward: step.reward, advantage: step.advantage };
      }
      await persist(result);
      return result;
    },
  };
}

/** How an iteration's learning was recorded: its status and the state its step started from. */
interface RecordedStep {
  status: string;
  before?: LearnedState;
}

function compare(out: ReplayDifference[], iteration: number | 'turn', field: string, recorded: unknown, replayed: unknown) {
  if (!sameValue(recorded, replayed)) out.push({ iteration, field, recorded, replayed });
}
