import type { Failure } from '../shared/errors.js';
import type { Result } from '../shared/result.js';
import type { LearnedState, LearningSource, Neuromodulators, TurnMetrics, Weights } from './learning.js';

/**
 * `POST /v1/learning/publish_turn_metrics` request: the plan's body plus `capsule_id`. Without
 * `capsule_id` the brain learns for the capsule of the tenant's turn `turn_id`, else of the capsule named
 * by `persona`. Idempotent per (capsule, turn, iteration, source): a repeat returns the stored step.
 */
export interface PublishTurnMetricsRequest extends TurnMetrics {
  capsule_id?: string;
  /** Tenant id (the plan calls it `tenant`). */
  tenant: string;
  persona?: string;
  /** The caller's view of the weights; informational — the brain always learns from the capsule's current state. */
  weights?: Weights;
  neuromodulators?: Neuromodulators;
}

export interface PublishOptions {
  signal?: AbortSignal;
  /**
   * Writes of the caller that must commit atomically with the learning step. A brain that keeps its
   * state in the caller's database (the in-process brain) calls it inside the step's transaction with
   * that transaction (the store adapter's handle) and sets `persisted` on the response; a remote brain
   * ignores it, and the caller then persists on its own.
   */
  persist?: (response: PublishTurnMetricsResponse, transaction: unknown) => Promise<void>;
  /**
   * `persist` only appends rows (the iteration, its token usage, its events) and reads nothing: a
   * brain in the caller's database may collect them into its own learning statement (one commit).
   */
  appendOnly?: boolean;
}

/** The result of one learning step. */
export interface PublishTurnMetricsResponse {
  status: 'success' | 'skipped';
  weights: Weights;
  neuromodulators: Neuromodulators;
  /** History row written, when learning happened (`seq` of `learning_updates`). */
  seq?: number;
  /** The state the step started from (equals the previous history row's `*_after`). */
  before?: LearnedState;
  /** The state after the step (weights, neuromodulators and the reward baseline). */
  after?: LearnedState;
  reward?: number;
  advantage?: number;
  /** Whether the salience gate let the parameters move. */
  learned?: boolean;
  /** `options.persist` ran inside the step's transaction and committed with it. */
  persisted?: boolean;
  /** The step was already in the history (a retry): this is its stored result and nothing was appended. */
  replayed?: boolean;
  /** The capsule the step learned for (resolved from the turn or persona when the request had none). */
  capsule_id?: string;
}

export interface MemoryRecord {
  key: string;
  content: string;
  importance?: number;
  novelty?: number;
  tags?: string[];
}

export interface RecalledMemory {
  key: string;
  content: string;
  /** Softmax weight of the memory under τ (sums to 1 over the memories returned). */
  score: number;
  /** The raw combined score c = α·sim + β·importance + γ·recency. */
  raw?: number;
  /** Similarity to the query in [0, 1] (full-text rank relative to the best match of this recall). */
  similarity?: number;
  /** Stored importance in [0, 1]. */
  importance?: number;
  /** Recency in [0, 1] at recall time: 2^(−age / half-life). */
  recency?: number;
}

/** `POST /v1/memory/recall` query. */
export interface RecallQuery {
  query: string;
  top_k: number;
  /**
   * The turn's seed: recall then scores with the capsule's weights nudged by the turn's exploration
   * draw (`explorationWeights` in core/learning), the weights the learning step will credit.
   */
  seed?: number;
  /** Explicit weights to score with (wins over `seed`), e.g. the turn's recorded recall weights in replay. */
  weights?: Weights;
}

/**
 * The scope's capsule as the caller read it a moment ago, its tenant checked (a turn's first run, from
 * the read that admitted the turn). An in-process brain then takes the capsule's learning config from
 * here instead of reading the capsule again. Only the app passes it, never anything from a request body.
 */
export interface KnownCapsule {
  /** The capsule's stored `learning_config`, as read. */
  learningConfig: unknown;
}

export interface BrainScope {
  tenantId: string;
  capsuleId: string;
  /**
   * The user on whose behalf memory is read or written: memories belong to (capsule, user) unless the
   * capsule's `learning_config.memory_scope` is `capsule` (SPEC §13.1). Absent = the capsule's shared
   * memories. Learning state is per capsule and ignores it.
   */
  userId?: string;
}

/** One row of a capsule's learning history (`learning_updates`), as the API returns it. */
export interface LearningHistoryEntry {
  seq: number;
  kind: 'learn' | 'rollback' | 'reset';
  /** What a `learn` row learned from: an `iteration` of its turn, or users' `feedback` on it; null for rollback and reset. */
  source: LearningSource | null;
  turn_id: string | null;
  iteration_number: number | null;
  weights_before: Weights;
  weights_after: Weights;
  neuromodulators_before: Neuromodulators;
  neuromodulators_after: Neuromodulators;
  reward_baseline_before: number;
  reward_baseline_after: number;
  reward: number | null;
  advantage: number | null;
  created_at: string;
}

/** A capsule's current learned state and one page of its history, oldest first. */
export interface LearningHistoryPage {
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
  learning_version: number;
  history: LearningHistoryEntry[];
  /** The `seq` to pass as `after` for the next page; null on the last page. */
  next_cursor: string | null;
}

/** Where a rollback goes back to: before history row `seq`, or before the first row of turn `turnId`. */
export type LearningPoint = { seq: number } | { turnId: string };

/** What a rollback or reset did. */
export interface RewindResult {
  /** The history row the rollback / reset appended. */
  seq: number;
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
  learning_version: number;
  /** Rollback: the history row whose before-state was restored. */
  restored_from_seq?: number;
}

export interface RewindOptions {
  /**
   * Writes of the caller that must commit atomically with the rewind (its outbox event). Same contract
   * as {@link PublishOptions.persist}: the in-process brain calls it inside its transaction and answers
   * `persisted: true`; a remote brain ignores it and the caller persists on its own.
   */
  persist?: (result: RewindResult, transaction: unknown) => Promise<void>;
}

/**
 * The brain: learning and memory for one capsule at a time. Two adapters: in-process (state in the
 * main database) and HTTP (`SOMA_BRAIN_URL`). Failures throw `SomaError('BRAIN_UNAVAILABLE')`. The
 * learning-history methods return refusals (not found) as values; the turn-path methods throw
 * `CAPSULE_NOT_FOUND`, which inside a turn (whose capsule was just loaded) is a fault.
 */
export interface Brain {
  /**
   * Steps published in the same moment (before the caller awaits) go in one statement with their
   * callers' `persist` writes, each `persist` given the same transaction, in the order they were
   * published (the in-process brain's group commit).
   */
  readonly groupsSteps?: boolean;
  /** One learning step, atomic with the append to the capsule's history. */
  publishTurnMetrics(request: PublishTurnMetricsRequest, options?: PublishOptions): Promise<PublishTurnMetricsResponse>;
  /** Current learned state of a capsule. */
  getState(scope: BrainScope): Promise<LearnedState & { learning_version: number }>;
  remember(scope: BrainScope, memory: MemoryRecord, known?: KnownCapsule): Promise<void>;
  /**
   * Adds the memory's write to `transaction` — the handle a learning step's `persist` was given — so it
   * commits with the caller's own write (a turn's close) instead of in a statement of its own. True when
   * it did; false when this brain or this handle cannot (the caller then calls {@link remember}). The
   * scope's `memory_limit` is then kept within about a second, off the caller's path. Throws
   * VALIDATION_FAILED for an invalid memory, as `remember` does.
   */
  rememberWith?(transaction: unknown, scope: BrainScope, memory: MemoryRecord, known: KnownCapsule): boolean;
  /** The `top_k` memories of the capsule by softmax weight (full-text similarity, importance, recency under α β γ τ). */
  recall(scope: BrainScope, query: RecallQuery, known?: KnownCapsule): Promise<RecalledMemory[]>;
  /**
   * The capsule's learned state and up to `limit` history rows with `seq` > `after`, read in one
   * snapshot (the state and the page agree while turns keep learning). `CAPSULE_NOT_FOUND` for an
   * unknown capsule or another tenant's.
   */
  learningHistory(scope: BrainScope, page: { limit: number; after: number }): Promise<Result<LearningHistoryPage, Failure>>;
  /**
   * Restores exactly the state that held before the point (its `*_before` weights, neuromodulators and
   * reward baseline) and appends a `rollback` history row, atomically. `LEARNING_POINT_NOT_FOUND` for a
   * point the capsule's history does not have, `CAPSULE_NOT_FOUND` as above.
   */
  rollbackLearning(scope: BrainScope, to: LearningPoint, options?: RewindOptions): Promise<Result<RewindResult & { persisted?: boolean }, Failure>>;
  /** Restores the defaults of the capsule's learning config and appends a `reset` history row, atomically. */
  resetLearning(scope: BrainScope, options?: RewindOptions): Promise<Result<RewindResult & { persisted?: boolean }, Failure>>;
}
