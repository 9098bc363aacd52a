import type { LearningConfig } from '../../../core/learning/index.js';
import type { PublishOptions, PublishTurnMetricsRequest, PublishTurnMetricsResponse } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { inCauseChain } from '../../../shared/errors.js';
import { stableSeed } from '../../../shared/hash.js';
import { keyedSerial } from '../../../shared/keyed-serial.js';
import { nothingMatched, statementOf, StatementBatch, type Database, type FixedClause } from '../../store/index.js';
import { iterationOf } from './brain-step.js';
import type { CachedCapsuleState } from './learning-ledger.js';

export type { CachedCapsuleState } from './learning-ledger.js';


/**
 * The learned state of capsules this process learns on, and one queue per capsule: a capsule's
 * steps in this process run one after the other, each from the state the previous one committed —
 * so the optimistic check of the one-statement step fails only when another process (or a rollback,
 * reset, feedback or patch) moved the capsule, and the caller then takes the locking path.
 */
export function createLearningCache(limit = 10_000) {
  const states = new Map<string, CachedCapsuleState>();
  const keep = (entry: CachedCapsuleState) => {
    if (states.size >= limit && !states.has(entry.capsuleId)) states.clear();
    states.set(entry.capsuleId, entry);
  };
  return {
    get: (capsuleId: string, tenantId: string) => {
      const entry = states.get(capsuleId);
      return entry && entry.tenantId === tenantId ? entry : undefined;
    },
    /** Keeps `entry` as the database would give it back: a copy through JSON (nothing shares it), no empty evidence. */
    set: (entry: CachedCapsuleState) => keep({ ...entry, state: asStored(entry.state) }),
    /** Keeps `entry` as it is: its state must be a stored copy nothing else holds ({@link oneStatementSteps}'s `next`). */
    keep,
    forget: (capsuleId: string) => void states.delete(capsuleId),
    /** Runs `work` after every earlier step of `capsuleId` in this process has settled. */
    serial: keyedSerial(),
  };
}

export type LearningCache = ReturnType<typeof createLearningCache>;

/** A learned state as the database gives it back: a copy through JSON (nothing shares it), no empty evidence. */
function asStored(learned: LearnedState): LearnedState {
  return fromJson(jsonOf(learned));
}

/** A learned state's columns as the statement stores them (JSON text; evidence `{}` when it has none). */
interface StateJson {
  weights: string;
  neuromodulators: string;
  rewardBaseline: number;
  evidence: string;
}

function jsonOf({ weights, neuromodulators, rewardBaseline, evidence }: LearnedState): StateJson {
  return { weights: JSON.stringify(weights), neuromodulators: JSON.stringify(neuromodulators), rewardBaseline, evidence: JSON.stringify(evidence ?? {}) };
}

/** The state the columns hold, a fresh copy (no empty evidence). */
function fromJson(json: StateJson): LearnedState {
  const evidence = JSON.parse(json.evidence) as LearnedState['evidence'];
  return {
    weights: JSON.parse(json.weights) as LearnedState['weights'],
    neuromodulators: JSON.parse(json.neuromodulators) as LearnedState['neuromodulators'],
    rewardBaseline: json.rewardBaseline,
    ...(evidence && Object.keys(evidence).length > 0 ? { evidence } : {}),
  };
}

/** The capsule's learned state moved one step on, only from the version the step started from (fixed text: built once). */
const MOVED = `update capsules set learned_weights = $1::jsonb, neuromodulator_state = $2::jsonb, reward_baseline = $3,
    learner_evidence = $4::jsonb, learning_version = $5, updated_at = $6::timestamptz
  where id = $7 and tenant_id = $8 and learning_version = $9 and version = $10
  returning id`;

/** The step appended to the capsule's learning history, only when the capsule moved. */
const APPENDED = `insert into learning_updates (capsule_id, seq, tenant_id, kind, source, turn_id, iteration_number, weights_before, weights_after,
    neuromodulators_before, neuromodulators_after, baseline_before, baseline_after, evidence_before, evidence_after, reward, advantage, inputs, created_at)
  select id, $1, $2, 'learn', 'iteration', $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15::jsonb, $16::timestamptz
  from moved`;

/** Whether `persist` refused before it wrote anything (`refusedBeforeWrite`, through the brain's wrapping causes). */
function refusedBeforeWrite(error: unknown): boolean {
  return inCauseChain(error, (current) => (current as { refusedBeforeWrite?: unknown }).refusedBeforeWrite === true, 4);
}

/** One iteration's step waiting for its capsule's statement. */
export interface PendingStep {
  request: PublishTurnMetricsRequest;
  options: PublishOptions & { persist: NonNullable<PublishOptions['persist']> };
}

/**
 * Iterations' learning steps from the cached state in ONE statement (one round trip, one commit, no
 * lock round trip) — the steps a capsule's queue gathered while its previous statement ran (a group
 * commit): the pure steps run one after the other from the cached state, in the queue's order (as
 * they would one statement each), the capsule moves to the last after-state only if it is still at
 * the cached versions, each step's history row is appended from that update, and each caller's
 * appends (`persist` collects the iteration row, its token usage and its outbox event into one
 * {@link StatementBatch}) run as further data-modifying `WITH` clauses. When the capsule moved, `1 / 0`
 * aborts the whole statement and this returns undefined (nothing written): the caller takes the
 * locking path, step by step.
 */
export async function oneStatementSteps(
  database: Database,
  { cached, steps, config, clock }: { cached: CachedCapsuleState; steps: PendingStep[]; config: LearningConfig; clock: Clock },
): Promise<{ responses: Array<PublishTurnMetricsResponse | { refused: unknown }>; next: CachedCapsuleState } | undefined> {
  const batch = new StatementBatch(database.db);
  const at = new Date(clock.now()).toISOString();
  const appended: FixedClause[] = [];
  const responses: Array<PublishTurnMetricsResponse | { refused: unknown }> = [];
  // Each state as its columns store it, and as a fresh copy (nothing of the cache is handed out): the
  // kept one, then each step's after-state, which the next step starts from.
  let stored = jsonOf(cached.state);
  let state: LearnedState = fromJson(stored);
  let seq = cached.learningVersion;
  for (const { request, options } of steps) {
    const seed = request.seed ?? stableSeed(request.turn_id);
    const before = state;
    const step = iterationOf({ request, seed, state: before, config });
    seq += 1;
    const response: PublishTurnMetricsResponse = {
      status: 'success',
      weights: step.after.weights,
      neuromodulators: step.after.neuromodulators,
      seq,
      before,
      after: step.after,
      ...(step.reward !== null ? { reward: step.reward } : {}),
      advantage: step.advantage,
      learned: step.learned,
      capsule_id: cached.capsuleId,
    };
    try {
      await options.persist(response, batch);
    } catch (error) {
      // A caller that refused before it wrote anything (its write must not commit with these) goes
      // without its step: the next step starts from the same state.
      if (!refusedBeforeWrite(error)) throw error;
      seq -= 1;
      responses.push({ refused: error });
      continue;
    }
    const inputs = { ...step.inputs, learning_config: cached.learningConfig as Record<string, unknown>, update_rule: config.update_rule };
    const after = jsonOf(step.after);
    appended.push({
      name: `appended${appended.length}`,
      text: APPENDED,
      values: [
        seq,
        cached.tenantId,
        request.turn_id,
        request.iteration_number,
        stored.weights,
        after.weights,
        stored.neuromodulators,
        after.neuromodulators,
        stored.rewardBaseline,
        after.rewardBaseline,
        stored.evidence,
        after.evidence,
        step.reward,
        step.advantage,
        JSON.stringify(inputs),
        at,
      ],
    });
    responses.push(response);
    // The next step starts from this one's after-state as it is stored (as its own statement would, from the cache).
    stored = after;
    state = fromJson(after);
  }
  const moved: FixedClause = {
    name: 'moved',
    text: MOVED,
    values: [stored.weights, stored.neuromodulators, stored.rewardBaseline, stored.evidence, seq, at, cached.capsuleId, cached.tenantId, cached.learningVersion, cached.version],
  };
  try {
    await database.run(statementOf(batch, { head: [moved, ...appended], headConditional: ['moved'] }));
  } catch (error) {
    if (nothingMatched(error)) return undefined;
    throw error;
  }
  for (const response of responses) if (!('refused' in response)) response.persisted = true;
  return { responses, next: { ...cached, learningVersion: seq, state } };
}
