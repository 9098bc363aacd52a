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

/**
 * What the `perturbation` rule has gathered about one weight since its last move: `n` credits
 * `g = a·ε`, their `sum` and `sum_sq`, the current step multiplier and the direction of the last move.
 */
export interface WeightEvidence {
  n: number;
  sum: number;
  sum_sq: number;
  /** Multiplier of `lr_eff · |gain| · scale` for the weight's next move. */
  step: number;
  /** Direction of the weight's last move (−1, +1), 0 before the first. */
  last: number;
}

/** Evidence per learned weight (missing = nothing gathered yet). */
export type Evidence = Partial<Record<keyof Weights, WeightEvidence>>;

/** The whole learned state of a capsule: what one learning step reads and writes. */
export interface LearnedState {
  weights: Weights;
  neuromodulators: Neuromodulators;
  /** Exponential moving average of the reward (the advantage baseline r̄). */
  rewardBaseline: number;
  /** The `perturbation` rule's evidence per weight; absent = none gathered (a fresh or reset capsule). */
  evidence?: Evidence;
}

/** What a learning step learns from: one iteration of a turn, or a user's feedback on a turn. */
export type LearningSource = 'iteration' | 'feedback';

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
  /**
   * Weights whose exploration sign changed this turn's memory lane (the lane with ε_p flipped differs).
   * Only they are credited: for the others the reward carries no information about their sign. Absent =
   * every explored weight.
   */
  lane_sensitive?: (keyof Weights)[];
  /**
   * The answer's score in [0, 1] from a real signal — the capsule's scorer (regex, JSON schema, a judge
   * model), or 0 for a draft that is empty, cut off or echoes the prompt. When given it is the reward's
   * quality term instead of self-confidence. Absent or null = no such signal.
   */
  answer_score?: number | null;
  /** `iteration` (default) or `feedback`. */
  source?: LearningSource;
  /** Feedback steps: the turn's feedback total (sum of each user's latest score) this step brings the credit to. */
  feedback_total?: number;
}
