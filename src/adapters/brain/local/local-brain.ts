import { resolveLearningConfig, type LearningConfig } from '../../../core/learning/index.js';
import type { Brain, BrainScope, KnownCapsule, MemoryRecord, PublishOptions, PublishTurnMetricsRequest, PublishTurnMetricsResponse, RecalledMemory, RecallQuery } from '../../../ports/brain.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { isSomaError, SomaError } from '../../../shared/errors.js';
import { asDatabaseFault, FOREIGN_KEY_VIOLATION, sqlStateOf, StatementBatch, type Database } from '../../store/index.js';
import type { BrainHealth, BrainMetricsSink } from '../brain-metrics.js';
import { BUMP_SCOPE, MemoryLimits, RECALL_WINDOW, memoryValues, RecallStamps, recallMemories, rememberMemory, rememberWriteAfter } from './brain-memory.js';
import { RecallWindows } from './recall-window.js';
import { publishStep } from './brain-step.js';
import { createLearningCache, oneStatementSteps, type CachedCapsuleState, type PendingStep } from './learning-cache.js';
import { capsuleNotFound, isUuid, readCapsuleState } from './learning-ledger.js';
import { readLearningHistory, resetToDefaults, rollbackTo } from './learning-rewind.js';
import { memoized } from '../../../shared/bounded-memo.js';

export { searchTerms } from './brain-memory.js';

/**
 * The longest memory written as a clause of another statement: a failing memory write would fail that
 * statement too, and a text's words must fit one tsvector (1 MB); longer ones are remembered apart.
 */
const MAX_MERGED_MEMORY_CHARS = 64 * 1024;

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
  // Each scope's recall window, kept up to date by what changed since (one small read a recall).
  const windows = new RecallWindows(RECALL_WINDOW);
  // memory_limit of the scopes whose memories went with another statement, checked once a second.
  const limits = new MemoryLimits(database, clock);
  // Resolved learning configs by their jsonb text: most capsules share a few, and validating one costs more than the step.
  const configs = new Map<string, LearningConfig>();
  const configOf = (raw: unknown): LearningConfig => memoized(configs, JSON.stringify(raw ?? null), 256, () => resolveLearningConfig(raw));

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
   * One step in a transaction that locks the capsule (first step here, the capsule moved, feedback, a
   * pause, a request without a capsule id) — which also refreshes the cache.
   */
  async function lockingStep(request: PublishTurnMetricsRequest, options: PublishOptions): Promise<PublishTurnMetricsResponse> {
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

  /**
   * Iterations whose callers only append, gathered by their capsule's queue while its previous
   * statement ran: in one statement from the cached state (a group commit: one round trip and one
   * commit for all of them, each still committed before its caller goes on). Without a cached state
   * the first takes the locking path (which fills the cache) and the rest go on together; when the
   * capsule moved, or the statement failed, each takes the path it would alone, in order — so every
   * caller gets its own outcome.
   */
  async function appendSteps(steps: Array<PendingStep & { settle: Settle }>): Promise<void> {
    let rest = steps;
    const first = rest[0]!;
    let cached = cache.get(first.request.capsule_id!, first.request.tenant);
    if (!cached) {
      await first.settle(() => lockingStep(first.request, first.options));
      rest = rest.slice(1);
      cached = rest[0] ? cache.get(rest[0].request.capsule_id!, rest[0].request.tenant) : undefined;
    }
    if (rest.length === 0) return;
    let done: Awaited<ReturnType<typeof oneStatementSteps>> | undefined;
    if (cached && rest.every((s) => s.request.tenant === cached.tenantId)) {
      try {
        done = await oneStatementSteps(database, { cached, steps: rest, config: configOf(cached.learningConfig), clock });
      } catch (error) {
        // The outcome is unknown: the next step reads the capsule again (below, or a lone step's own error).
        if (rest.length === 1) {
          cache.forget(cached.capsuleId);
          return void (await rest[0]!.settle(() => Promise.reject(error)));
        }
      }
    }
    if (done) {
      cache.keep(done.next);
      rest.forEach((s, i) => {
        const response = done.responses[i]!;
        void s.settle(() => ('refused' in response ? Promise.reject(response.refused) : Promise.resolve(response)));
      });
      return;
    }
    if (cached) cache.forget(cached.capsuleId);
    for (const s of rest) await s.settle(() => lockingStep(s.request, s.options));
  }

  type Settle = (work: () => Promise<PublishTurnMetricsResponse>) => Promise<void>;
  /** Per capsule, the appending steps waiting for the capsule's next statement (not yet started). */
  const gathering = new Map<string, Array<PendingStep & { settle: Settle }>>();
  /** The most steps one statement carries. */
  const GROUP_LIMIT = 32;

  function step(request: PublishTurnMetricsRequest, options: PublishOptions): Promise<PublishTurnMetricsResponse> {
    const capsuleId = request.capsule_id;
    if (capsuleId === undefined) return lockingStep(request, options);
    const { persist } = options;
    if (!(persist && options.appendOnly && (request.source ?? 'iteration') === 'iteration')) {
      return cache.serial(capsuleId, () => lockingStep(request, options));
    }
    return new Promise<PublishTurnMetricsResponse>((resolve, reject) => {
      const settle: Settle = (work) => work().then(resolve, reject);
      const waiting = gathering.get(capsuleId);
      if (waiting && waiting.length < GROUP_LIMIT) return void waiting.push({ request, options: { ...options, persist }, settle });
      const group = [{ request, options: { ...options, persist }, settle }];
      gathering.set(capsuleId, group);
      void cache.serial(capsuleId, async () => {
        if (gathering.get(capsuleId) === group) gathering.delete(capsuleId);
        // A fault here still answers every caller (settling twice changes nothing).
        await appendSteps(group).catch((error: unknown) => group.forEach((s) => void s.settle(() => Promise.reject(error))));
      });
    });
  }

  return {
    health: () => health,
    groupsSteps: true,

    async publishTurnMetrics(request: PublishTurnMetricsRequest, options: PublishOptions = {}): Promise<PublishTurnMetricsResponse> {
      const started = process.hrtime.bigint();
      if (!isUuid(request.turn_id)) throw new SomaError('VALIDATION_FAILED', `turn_id must be a UUID (got "${request.turn_id}")`);
      if (!Number.isInteger(request.iteration_number) || request.iteration_number < 0) {
        throw new SomaError('VALIDATION_FAILED', 'iteration_number must be a whole number ≥ 0');
      }
      try {
        const response = await guard(() => step(request, options));
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

    rememberWith(transaction: unknown, scope: BrainScope, memory: MemoryRecord, known: KnownCapsule): boolean {
      // Only a statement being collected takes it as a clause (a memory too large for one row's words stays apart).
      if (!(transaction instanceof StatementBatch) || memory.content.length > MAX_MERGED_MEMORY_CHARS) return false;
      const config = configOf(known.learningConfig);
      const values = memoryValues(clock.now(), { scope, config, memory });
      // The scope's version raised once for the statement; every memory of the scope it writes takes it.
      const bumped = transaction.share(`memory_scope|${values[1]}|${values[2]}|${values[3]}`, () => ({ text: BUMP_SCOPE, values: values.slice(1, 4) }));
      transaction.writes.push({ text: rememberWriteAfter(bumped), values, conditional: false });
      limits.add(scope, config);
      return true;
    },

    async recall(scope: BrainScope, query: RecallQuery, known?: KnownCapsule): Promise<RecalledMemory[]> {
      return guard(async () => {
        // With the capsule known and the weights given, the capsule's state is not needed: no read.
        const { state, config } = known && query.weights ? { state: undefined, config: configOf(known.learningConfig) } : await capsuleOf(scope);
        return recallMemories(database, clock, { scope, config, state, query, stamps, windows });
      });
    },

    learningHistory: (scope, page) => guard(() => readLearningHistory(database, scope, page)),
    rollbackLearning: (scope, to, options = {}) => guard(() => cache.serial(scope.capsuleId, () => (cache.forget(scope.capsuleId), rollbackTo(database, clock, scope, to, options)))),
    resetLearning: (scope, options = {}) => guard(() => cache.serial(scope.capsuleId, () => (cache.forget(scope.capsuleId), resetToDefaults(database, clock, scope, options)))),
  };
}
