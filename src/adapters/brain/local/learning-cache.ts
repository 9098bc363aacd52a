import type { LearningConfig } from '../../../core/learning/index.js';
import type { PublishOptions, PublishTurnMetricsRequest, PublishTurnMetricsResponse } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { stableSeed } from '../../../shared/hash.js';
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
  const queues = new Map<string, Promise<unknown>>();
  return {
    get: (capsuleId: string, tenantId: string) => {
      const entry = states.get(capsuleId);
      return entry && entry.tenantId === tenantId ? entry : undefined;
    },
    /** Keeps `entry` as the database would give it back: a copy through JSON (nothing shares it), no empty evidence. */
    set(entry: CachedCapsuleState) {
      if (states.size >= limit && !states.has(entry.capsuleId)) states.clear();
      const { evidence, ...rest } = JSON.parse(JSON.stringify(entry.state)) as LearnedState;
      const state: LearnedState = { ...rest, ...(evidence && Object.keys(evidence).length > 0 ? { evidence } : {}) };
      states.set(entry.capsuleId, { ...entry, state });
    },
    forget: (capsuleId: string) => void states.delete(capsuleId),
    /** Runs `work` after every earlier step of `capsuleId` in this process has settled. */
    serial<T>(capsuleId: string, work: () => Promise<T>): Promise<T> {
      const run = (queues.get(capsuleId) ?? Promise.resolve()).then(work, work);
      const tail = run.then(
        () => undefined,
        () => undefined,
      );
      queues.set(capsuleId, tail);
      void tail.then(() => {
        if (queues.get(capsuleId) === tail) queues.delete(capsuleId);
      });
      return run;
    },
  };
}

export type LearningCache = ReturnType<typeof createLearningCache>;

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

/**
 * An iteration's learning step from the cached state in ONE statement (one round trip, one commit, no
 * lock round trip): the capsule moves to the after-state only if it is still at the cached versions,
 * the history row is appended from that update, and the caller's appends (`persist` collects the
 * iteration row, its token usage and its outbox event into a {@link StatementBatch}) run as further
 * data-modifying `WITH` clauses; when the capsule moved, `1 / 0` aborts the whole statement and this
 * returns undefined (nothing written) so the caller takes the locking path.
 */
export async function oneStatementStep(
  database: Database,
  { cached, request, config, clock, options }: { cached: CachedCapsuleState; request: PublishTurnMetricsRequest; config: LearningConfig; clock: Clock; options: PublishOptions & { persist: NonNullable<PublishOptions['persist']> } },
): Promise<{ response: PublishTurnMetricsResponse; next: CachedCapsuleState } | undefined> {
  const seed = request.seed ?? stableSeed(request.turn_id);
  const before = structuredClone(cached.state);
  const step = iterationOf({ request, seed, state: before, config });
  const seq = cached.learningVersion + 1;
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
  const batch = new StatementBatch(database.db);
  await options.persist(response, batch);
  const at = new Date(clock.now()).toISOString();
  const inputs = { ...step.inputs, learning_config: cached.learningConfig as Record<string, unknown>, update_rule: config.update_rule };
  const { weights, neuromodulators, rewardBaseline } = step.after;
  const evidenceAfter = JSON.stringify(step.after.evidence ?? {});
  const weightsAfter = JSON.stringify(weights);
  const neuromodulatorsAfter = JSON.stringify(neuromodulators);
  const moved: FixedClause = {
    name: 'moved',
    text: MOVED,
    values: [weightsAfter, neuromodulatorsAfter, rewardBaseline, evidenceAfter, seq, at, cached.capsuleId, cached.tenantId, cached.learningVersion, cached.version],
  };
  const appended: FixedClause = {
    name: 'appended',
    text: APPENDED,
    values: [
      seq,
      cached.tenantId,
      request.turn_id,
      request.iteration_number,
      JSON.stringify(before.weights),
      weightsAfter,
      JSON.stringify(before.neuromodulators),
      neuromodulatorsAfter,
      before.rewardBaseline,
      rewardBaseline,
      JSON.stringify(before.evidence ?? {}),
      evidenceAfter,
      step.reward,
      step.advantage,
      JSON.stringify(inputs),
      at,
    ],
  };
  try {
    await database.run(statementOf(batch, { head: [moved, appended], headConditional: ['moved'] }));
  } catch (error) {
    if (nothingMatched(error)) return undefined;
    throw error;
  }
  response.persisted = true;
  return { response, next: { ...cached, learningVersion: seq, state: step.after } };
}
