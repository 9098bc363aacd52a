import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { explorationWeights, learningStep, resolveLearningConfig, scoreMemories, type LearningConfig } from '../../../core/learning/index.js';
import type {
  Brain,
  BrainScope,
  MemoryRecord,
  PublishOptions,
  PublishTurnMetricsRequest,
  PublishTurnMetricsResponse,
  RecalledMemory,
  RecallQuery,
} from '../../../ports/brain.js';
import { systemClock, type Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { isSomaError, SomaError } from '../../../shared/errors.js';
import { stableSeed } from '../../../shared/hash.js';
import { tables, type Database } from '../../store/index.js';
import type { BrainHealth, BrainMetricsSink } from '../brain-metrics.js';
import { appendLearningUpdate, capsuleNotFound, isUuid, lockCapsuleState, readCapsuleState } from './learning-ledger.js';
import { readLearningHistory, resetToDefaults, rollbackTo } from './learning-rewind.js';

/** The in-process brain: learning and memory with state in the main database. */
export interface LocalBrain extends Brain {
  health(): BrainHealth;
}

/** Most memories recall scores per call (the best full-text matches, then the newest). */
const RECALL_CANDIDATES = 200;

/**
 * The brain in process (SPEC §1 embedded default). Each learning step locks the capsule row, runs the
 * pure step on the state it read, appends one `learning_updates` row and updates the capsule, all in
 * one transaction — so concurrent turns on one capsule form one linear chain. Database faults throw
 * `SomaError('BRAIN_UNAVAILABLE')`.
 */
export function createLocalBrain({ database, clock = systemClock, metrics }: { database: Database; clock?: Clock; metrics?: BrainMetricsSink }): LocalBrain {
  let health: BrainHealth = 'unknown';
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
      health = 'unhealthy';
      throw new SomaError('BRAIN_UNAVAILABLE', `the brain's database failed: ${(error as Error).message}`, { retryable: true, cause: error });
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
        const response = await guard(() =>
          database.db.transaction(async (tx) => {
            const locked = await lockCapsuleState(tx, { tenantId: request.tenant, capsuleId: request.capsule_id });
            if (!locked) throw capsuleNotFound(request.capsule_id);
            const config = configOf(locked.learningConfig);
            const seed = request.seed ?? stableSeed(request.turn_id);
            const metrics = {
              confidence: request.confidence,
              convergence_score: request.convergence_score,
              tool_success_rate: request.tool_success_rate,
              latency_ms: request.latency_ms,
              prompt_tokens: request.prompt_tokens,
              completion_tokens: request.completion_tokens,
              novelty: request.novelty,
              tools_used: request.tools_used,
              seed,
            };
            const result = learningStep({ state: locked.state, metrics, config });
            const seq = await appendLearningUpdate(tx, locked, {
              kind: 'learn',
              turnId: request.turn_id,
              iterationNumber: request.iteration_number,
              after: result.state,
              reward: result.reward,
              advantage: result.advantage,
              inputs: {
                metrics,
                learning_config: locked.learningConfig as Record<string, unknown>,
                reward_terms: result.rewardTerms,
                salience: result.salience,
                learned: result.learned,
                effective_learning_rate: result.effectiveLearningRate,
                exploration: result.exploration,
                update_rule: config.update_rule,
              },
              createdAt: new Date(clock.now()),
            });
            const response: PublishTurnMetricsResponse = {
              status: 'success' as const,
              weights: result.state.weights,
              neuromodulators: result.state.neuromodulators,
              seq,
              before: locked.state,
              after: result.state,
              reward: result.reward,
              advantage: result.advantage,
              learned: result.learned,
            };
            if (options.persist) {
              await options.persist(response, tx);
              response.persisted = true;
            }
            return response;
          }),
        );
        metrics?.observeLearningLatency(Number(process.hrtime.bigint() - started) / 1e9);
        return response;
      } catch (error) {
        if (isSomaError(error) && error.code === 'BRAIN_UNAVAILABLE') metrics?.countLearningSkipped();
        throw error;
      }
    },

    async getState(scope: BrainScope): Promise<LearnedState & { learning_version: number }> {
      const { learningConfig: _config, ...state } = await guard(() => requireCapsuleState(database.db, scope));
      return state;
    },

    async remember(scope: BrainScope, memory: MemoryRecord): Promise<void> {
      if (memory.key.length === 0 || memory.content.length === 0) throw new SomaError('VALIDATION_FAILED', 'a memory needs a non-empty key and content');
      await guard(async () => {
        await requireCapsuleState(database.db, scope);
        const now = new Date(clock.now());
        await database.db
          .insert(tables.memories)
          .values({
            id: crypto.randomUUID(),
            tenantId: scope.tenantId,
            capsuleId: scope.capsuleId,
            key: memory.key,
            content: memory.content,
            importance: unit(memory.importance ?? 0.5),
            novelty: unit(memory.novelty ?? 0.5),
            tags: memory.tags ?? [],
            createdAt: now,
          })
          .onConflictDoUpdate({
            target: [tables.memories.tenantId, tables.memories.capsuleId, tables.memories.key],
            set: {
              content: memory.content,
              importance: unit(memory.importance ?? 0.5),
              novelty: unit(memory.novelty ?? 0.5),
              tags: memory.tags ?? [],
              createdAt: now,
            },
          });
      });
    },

    learningHistory: (scope, page) => guard(() => readLearningHistory(database, scope, page)),
    rollbackLearning: (scope, to, options = {}) => guard(() => rollbackTo(database, clock, scope, to, options)),
    resetLearning: (scope, options = {}) => guard(() => resetToDefaults(database, clock, scope, options)),

    async recall(scope: BrainScope, query: RecallQuery): Promise<RecalledMemory[]> {
      const topK = Math.max(0, Math.floor(query.top_k));
      return guard(async () => {
        const capsule = await requireCapsuleState(database.db, scope);
        if (topK === 0) return [];
        const config = configOf(capsule.learningConfig);
        const weights = query.weights ?? explorationWeights({ weights: capsule.weights, seed: query.seed, config }).weights;
        const terms = searchTerms(query.query);
        const rank = terms === '' ? sql<number>`0::real` : sql<number>`ts_rank(${tables.memories.search}, to_tsquery('english', ${terms}))`;
        const rows = await database.db
          .select({
            id: tables.memories.id,
            key: tables.memories.key,
            content: tables.memories.content,
            importance: tables.memories.importance,
            createdAt: tables.memories.createdAt,
            rank: rank.as('rank'),
          })
          .from(tables.memories)
          .where(and(eq(tables.memories.tenantId, scope.tenantId), eq(tables.memories.capsuleId, scope.capsuleId)))
          .orderBy(desc(sql`rank`), desc(tables.memories.createdAt))
          .limit(RECALL_CANDIDATES);
        if (rows.length === 0) return [];
        // ts_rank is unbounded and small in absolute terms; the best match of this recall counts as similarity 1.
        const best = Math.max(...rows.map((row) => Number(row.rank)));
        const now = clock.now();
        const scored = scoreMemories({
          candidates: rows.map((row) => ({
            key: row.key,
            content: row.content,
            similarity: best > 0 ? Number(row.rank) / best : 0,
            importance: row.importance,
            ageSeconds: Math.max(0, (now - row.createdAt.getTime()) / 1000),
          })),
          weights,
          halfLifeSeconds: config.recency_half_life_s,
        }).slice(0, topK);
        const idOf = new Map(rows.map((row) => [row.key, row.id]));
        await database.db
          .update(tables.memories)
          .set({ lastRecalledAt: new Date(now) })
          .where(inArray(tables.memories.id, scored.map((memory) => idOf.get(memory.key)!)));
        return scored.map((memory) => ({ key: memory.key, content: memory.content, score: memory.weight, raw: memory.raw }));
      });
    },
  };
}

/** The capsule's learned state; CAPSULE_NOT_FOUND (thrown: on the turn path a missing capsule is a fault) when there is none. */
async function requireCapsuleState(executor: Database['db'], scope: BrainScope) {
  const state = await readCapsuleState(executor, scope);
  if (!state) throw capsuleNotFound(scope.capsuleId);
  return state;
}

/** The query's words joined with `|` for `to_tsquery` (any word may match); only letters and digits survive. */
export function searchTerms(query: string): string {
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, 32).join(' | ');
}

function unit(value: number): number {
  if (!Number.isFinite(value)) throw new SomaError('VALIDATION_FAILED', 'importance and novelty must be numbers in [0, 1]');
  return Math.min(1, Math.max(0, value));
}
