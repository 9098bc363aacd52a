/** The seven learned weights of a capsule (SPEC §5). */
export interface Weights {
  alpha: number;
  beta: number;
  gamma: number;
  tau: number;
  lambda: number;
  mu: number;
  nu: number;
}

export const weightNames = ['alpha', 'beta', 'gamma', 'tau', 'lambda', 'mu', 'nu'] as const satisfies readonly (keyof Weights)[];

/** Neuromodulator levels of a capsule (SPEC §5). */
export interface Neuromodulators {
  dopamine: number;
  serotonin: number;
  norepinephrine: number;
  acetylcholine: number;
}

export const neuromodulatorNames = ['dopamine', 'serotonin', 'norepinephrine', 'acetylcholine'] as const satisfies readonly (keyof Neuromodulators)[];

/** The whole learned state of a capsule: what one learning step reads and writes. */
export interface LearnedState {
  weights: Weights;
  neuromodulators: Neuromodulators;
  /** Exponential moving average of the reward (the advantage baseline r̄). */
  rewardBaseline: number;
}

/** What one iteration reports to the brain (the plan's request plus `capsule_id`). */
export interface TurnMetrics {
  turn_id: string;
  iteration_number: number;
  tools_used: string[];
  /** Confidence of the iteration, or null when unknown (then the convergence score stands in). */
  confidence: number | null;
  convergence_score: number;
  /** Fraction of this iteration's tool calls that succeeded; 1 when none ran. */
  tool_success_rate: number;
  latency_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** 1 − similarity of the draft to the recalled memories, in [0,1]. */
  novelty: number;
  /**
   * The turn's seed (SPEC §3: stable hash of the turn id). Under the default `perturbation` update rule
   * it fixes the turn's exploration draw (`explorationWeights` in core/learning), which the step needs to
   * credit the reward to the right direction. When absent the brain uses the stable hash of `turn_id`.
   */
  seed?: number;
}
