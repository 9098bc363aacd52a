import type { LearnedState, Neuromodulators, TurnMetrics, Weights } from './learning.js';

/** `POST /v1/learning/publish_turn_metrics` request: the plan's body plus `capsule_id`. */
export interface PublishTurnMetricsRequest extends TurnMetrics {
  capsule_id: string;
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
  /** Softmax weight of the memory under the capsule's τ (sums to 1 over the candidates). */
  score: number;
  /** The raw combined score c = α·sim + β·importance + γ·recency. */
  raw?: number;
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

export interface BrainScope {
  tenantId: string;
  capsuleId: string;
}

/**
 * The brain: learning and memory for one capsule at a time. Two adapters: in-process (state in the
 * main database) and HTTP (`SOMA_BRAIN_URL`). Failures throw `SomaError('BRAIN_UNAVAILABLE')`.
 */
export interface Brain {
  /** One learning step, atomic with the append to the capsule's history. */
  publishTurnMetrics(request: PublishTurnMetricsRequest, options?: PublishOptions): Promise<PublishTurnMetricsResponse>;
  /** Current learned state of a capsule. */
  getState(scope: BrainScope): Promise<LearnedState & { learning_version: number }>;
  remember(scope: BrainScope, memory: MemoryRecord): Promise<void>;
  /** The `top_k` memories of the capsule by softmax weight (full-text similarity, importance, recency under α β γ τ). */
  recall(scope: BrainScope, query: RecallQuery): Promise<RecalledMemory[]>;
}
