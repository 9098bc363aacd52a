import { resolveLearningConfig, type LearningConfig } from '../../../core/learning/index.js';
import type { Brain, BrainScope, KnownCapsule, MemoryRecord, PublishOptions, PublishTurnMetricsRequest, PublishTurnMetricsResponse, RecalledMemory, RecallQuery } from '../../../ports/brain.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { isSomaError, SomaError } from '../../../shared/errors.js';
import { asDatabaseFault, FOREIGN_KEY_VIOLATION, sqlStateOf, type Database } from '../../store/index.js';
import type { BrainHealth, BrainMetricsSink } from '../brain-metrics.js';
import { RecallStamps, recallMemories, rememberMemory } from './brain-memory.js';
import { publishStep } from './brain-step.js';
import { createLearningCache, oneStatementStep, type CachedCapsuleState } from './learning-cache.js';
import { capsuleNotFound, isUuid, readCapsuleState } from './learning-ledger.js';
import { readLearningHistory, resetToDefaults, rollbackTo } from './learning-rewind.js';

export { searchTerms } from './brain-memory.js';

/** The in-process brain: learning and memory with state in the main database. */
export interface LocalBrain extends Brain {
  health(): BrainHealth;
}

/**
 * The brain in process (SPEC §1 embedded default). Each learning step locks the capsule row, runs the
 * pure step on the state it read, appends one `learning_updates` row and updates the capsule, all in
 * one transaction — so concurrent turns on one capsule form one linear chain, and a step already in the
 * history (same turn, iteration and source) is answered from it. Database faults throw
 * `SomaError('BRAIN_UNAVAILABLE')`, caused by `DATABASE_UNAVAILABLE` when the database cannot be reached.
 */
export function createLocalBrain({ database, clock = systemClock, metrics }: { database: Database; clock?: Clock; metrics?: BrainMetricsSink }): LocalBrain {
  let health: BrainHealth = 'unknown';
  const cache = createLearningCache();
  // last_recalled_at of every recall of the last second, in one write.
  const stamps = new RecallStamps(database);
  // Resolved learning configs by their jsonb text: most capsules share a few, and validating one costs more than the step.
  const configs = new Map<string, LearningConfig>();
  const configOf = (raw: unknown): LearningConfig => {
    const text = JSON.stringify(raw ?? null);
    let config = configs.get(text);
    if (!config) {
      config = resolveLearningConfig(raw);
      if (configs.size >= 256) configs.clear();
      configs.set(text, config);
    }
    return config;
  };

  async function guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      const value = await work();
      health = 'healthy';
      return value;
    } catch (error) {
      if (isSomaError(error) && error.code !== 'DATABASE_UNAVAILABLE' && error.code !== 'INTERNAL') {
        health = 'healthy';
        throw error;
      }
      // A foreign key that no longer holds: the capsule was deleted while the call ran (not a fault).
      if (sqlStateOf(error) === FOREIGN_KEY_VIOLATION) {
        health = 'healthy';
        throw new SomaError('CAPSULE_NOT_FOUND', 'the capsule was deleted', { cause: error });
      }
      health = 'unhealthy';
      // The driver's message quotes the statement and its parameters: it stays in `cause` (the log).
      // An unreachable database stays recognisable in the cause (`DATABASE_UNAVAILABLE`), so the
      // iteration's write is retried (brain-learner) whichever statement lost the connection.
      throw new SomaError('BRAIN_UNAVAILABLE', "the brain's database failed", { retryable: true, cause: asDatabaseFault(error) });
    }
  }

  /** The capsule's state and config; CAPSULE_NOT_FOUND (thrown: on the turn path a missing capsule is a fault). */
  const capsuleOf = async (scope: BrainScope) => {
    const state = await readCapsuleState(database.db, scope);
    if (!state) throw capsuleNotFound(scope.capsuleId);
    return { state, config: configOf(state.learningConfig) };
  };

  /**
   * One step: an iteration whose caller only appends, on a capsule this process knows, in one
   * statement from the cached state; else (first step here, the capsule moved, feedback, a pause) in
   * a transaction that locks the capsule — which also refreshes the cache.
   */
  async function step(request: PublishTurnMetricsRequest, options: PublishOptions): Promise<PublishTurnMetricsResponse> {
    const cached = request.capsule_id !== undefined ? cache.get(request.capsule_id, request.tenant) : undefined;
    const { persist } = options;
    if (cached && persist && options.appendOnly && (request.source ?? 'iteration') === 'iteration') {
      try {
        const done = await oneStatementStep(database, { cached, request, config: configOf(cached.learningConfig), clock, options: { ...options, persist } });
        if (done) {
          cache.set(done.next);
          return done.response;
        }
      } catch (error) {
        cache.forget(cached.capsuleId); // the outcome is unknown: the next step reads the capsule again
        throw error;
      }
    }
    let next: CachedCapsuleState | undefined;
    const capsuleId = request.capsule_id;
    try {
      const response = await database.db.transaction((tx) => publishStep(tx, { request, configOf, clock, options, learned: (state) => (next = state) }));
      if (next) cache.set(next);
      else if (capsuleId !== undefined) cache.forget(capsuleId);
      return response;
    } catch (error) {
      if (capsuleId !== undefined) cache.forget(capsuleId);
      throw error;
    }
  }

  return {
    health: () => health,

    async publishTurnMetrics(request: PublishTurnMetricsRequest, options: PublishOptions = {}): Promise<PublishTurnMetricsResponse> {
      const started = process.hrtime.bigint();
      if (!isUuid(request.turn_id)) throw new SomaError('VALIDATION_FAILED', `turn_id must be a UUID (got "${request.turn_id}")`);
      if (!Number.isInteger(request.iteration_number) || request.iteration_number < 0) {
        throw new SomaError('VALIDATION_FAILED', 'iteration_number must be a whole number ≥ 0');
      }
      try {
        const response = await guard(() => (request.capsule_id !== undefined ? cache.serial(request.capsule_id, () => step(request, options)) : step(request, options)));
        metrics?.observeLearningLatency(Number(process.hrtime.bigint() - started) / 1e9);
        return response;
      } catch (error) {
        if (isSomaError(error) && error.code === 'BRAIN_UNAVAILABLE') metrics?.countLearningSkipped();
        throw error;
      }
    },

    async getState(scope: BrainScope): Promise<LearnedState & { learning_version: number }> {
      const { state } = await guard(() => capsuleOf(scope));
      const { learningConfig: _config, ...rest } = state;
      return rest;
    },

    async remember(scope: BrainScope, memory: MemoryRecord, known?: KnownCapsule): Promise<void> {
      await guard(async () => {
        const config = known ? configOf(known.learningConfig) : (await capsuleOf(scope)).config;
        await rememberMemory(database, clock, { scope, config, memory });
      });
    },

    async recall(scope: BrainScope, query: RecallQuery, known?: KnownCapsule): Promise<RecalledMemory[]> {
      return guard(async () => {
        // With the capsule known and the weights given, the capsule's state is not needed: no read.
        const { state, config } = known && query.weights ? { state: undefined, config: configOf(known.learningConfig) } : await capsuleOf(scope);
        return recallMemories(database, clock, { scope, config, state, query, stamps });
      });
    },

    learningHistory: (scope, page) => guard(() => readLearningHistory(database, scope, page)),
    rollbackLearning: (scope, to, options = {}) => guard(() => cache.serial(scope.capsuleId, () => (cache.forget(scope.capsuleId), rollbackTo(database, clock, scope, to, options)))),
    resetLearning: (scope, options = {}) => guard(() => cache.serial(scope.capsuleId, () => (cache.forget(scope.capsuleId), resetToDefaults(database, clock, scope, options)))),
  };
}
