import type { Neuromodulators, Weights } from '../../ports/learning.js';

/** A capsule's scorer of answers (SPEC §13.2). */
export type ScorerConfig =
  | { type: 'regex'; pattern: string; flags?: string }
  | { type: 'json_schema'; schema: Record<string, unknown> }
  | { type: 'judge'; judge: string };

/**
 * Default, bounds and gain of one learned weight (SPEC §5).
 * A learned step moves the weight by `lr_eff · gain · advantage`, then clamps it to `[min, max]`.
 */
export interface WeightRule {
  /** Value of a fresh (or reset) capsule. */
  default: number;
  /** Lower bound, inclusive. */
  min: number;
  /** Upper bound, inclusive. */
  max: number;
  /**
   * Signed gain. Rule `gain` (SPEC §5 literal): a learned step moves the weight by `lr_eff · gain · advantage`.
   * Rule `perturbation` (default): `|gain|` scales the weight's learning rate, the sign is unused (the
   * direction comes from the turn's exploration draw), and gain 0 means "not learned" (β, and τ which
   * moves only by `tau_decay`).
   */
  gain: number;
  /**
   * Rule `perturbation`: the weight's relative learning rate — it is explored and credited when > 0, and
   * its moves are `lr_eff · step · rate · scale`. SPEC §5's gain magnitudes for α γ λ μ ν; β and τ, which
   * the gain rule cannot learn (gain 0), are learned here too at rate 0.5 (their effect on the lane is
   * real: importance ordering, the weight shares).
   */
  rate: number;
  /**
   * The weight's natural step unit for the `perturbation` rule: a turn recalls with the weight nudged by
   * `± exploration · scale`, and a learned step moves it by `lr_eff · |gain| · advantage · ε · scale`.
   */
  scale: number;
}

/** Default and range of one neuromodulator (SPEC §5). */
export interface NeuromodulatorRange {
  /** Level of a fresh (or reset) capsule. */
  default: number;
  /** Lower bound, inclusive. */
  min: number;
  /** Upper bound, inclusive. */
  max: number;
}

/** Terms of the reward `r = quality + tool_success_weight·tool_success_rate − latency_penalty − cost_penalty`. */
export interface RewardRule {
  /** Factor of `tool_success_rate` in the reward (SPEC: 0.5). */
  tool_success_weight: number;
  /** Seconds of iteration latency that cost nothing. */
  latency_free_s: number;
  /** Penalty per second of latency beyond `latency_free_s`. */
  latency_penalty_per_s: number;
  /** Cap of the latency penalty. */
  latency_penalty_max: number;
  /** Tokens (prompt + completion) of one iteration that cost nothing. */
  cost_free_tokens: number;
  /** Penalty per 1,000 tokens beyond `cost_free_tokens`. */
  cost_penalty_per_1k_tokens: number;
  /** Cap of the cost penalty. */
  cost_penalty_max: number;
}

/** How the neuromodulators follow each iteration (SPEC §5 step 5). */
export interface NeuromodulatorRule {
  /** Dopamine = `dopamine_base + (quality − 0.5) · dopamine_slope`, clamped to its range. */
  dopamine_base: number;
  /** See `dopamine_base`. */
  dopamine_slope: number;
  /** Serotonin = `serotonin_base + (quality − 0.5) · serotonin_slope`, clamped to its range. */
  serotonin_base: number;
  /** See `serotonin_base`. */
  serotonin_slope: number;
  /** An iteration slower than this (strictly) raises norepinephrine. */
  norepinephrine_latency_ms: number;
  /** Norepinephrine increment for a slow iteration. */
  norepinephrine_step: number;
  /** Acetylcholine increment for an iteration in which tools ran. */
  acetylcholine_step: number;
  /** Factor applied to norepinephrine / acetylcholine when their trigger did not fire (0.9 = decays 10%). */
  decay_factor: number;
}

/**
 * The whole learning configuration of a capsule. Keys are snake_case on purpose: this is exactly the
 * shape of the capsule's `learning_config` jsonb (every field optional there) and the SPEC's names.
 */
export interface LearningConfig {
  /**
   * How learned steps move the weights. `perturbation` (default): each turn recalls with the weights
   * nudged by a ±1 draw ε from the turn's seed (`explorationWeights`), and a learned step moves each
   * learned weight by `lr_eff·|gain|·a·ε·scale` — the data decide the direction. `gain`: SPEC §5's
   * literal `lr_eff·gain·a` (fixed direction; kept selectable, see docs/decisions/2026-11-24-learning-step.md).
   */
  update_rule: 'perturbation' | 'gain';
  /** Size of a turn's exploration nudge, as a fraction of each weight's `scale` (0 = no exploration, so no perturbation learning). */
  exploration: number;
  /**
   * `perturbation` rule: on each learned step every learned weight is also pulled back towards its
   * default by `lr_eff · prior_strength · (p − default)`. 0 (default) = off: the evidence test already
   * keeps rewards that say nothing about a weight from moving it (see `evidence_z`).
   */
  prior_strength: number;
  /**
   * `perturbation` rule: a weight moves only when its evidence `t = Σ a·ε / √Σ (a·ε)²` passes this
   * many standard scores (ε is the turn's fair coin, so `t` is standard normal when the reward does not
   * depend on the weight, whatever the reward's noise).
   */
  evidence_z: number;
  /** Fewest credits before a weight's evidence may decide a move. */
  evidence_min_samples: number;
  /** A weight's evidence starts again after this many credits without a decision (bounds how long noise can accumulate). */
  evidence_window: number;
  /** Step multiplier of a weight's first move: a move is `lr_eff · step · |gain| · scale`. */
  step_initial: number;
  /** The step multiplier grows by this when a move goes the same way as the weight's previous move… */
  step_growth: number;
  /** …and shrinks by this when it turns back. */
  step_shrink: number;
  /** Largest step multiplier. */
  step_max: number;
  /** Smallest step multiplier. */
  step_min: number;
  /**
   * Weight of self-confidence in the reward when no real signal (`answer_score`) is given: the quality
   * term is `0.5 + self_confidence_weight · (confidence − 0.5)`, so a confident model earns at most
   * `0.5 + w/2` from its own opinion (0.75 at the default 0.5) and a neutral iteration stays 0.5.
   */
  self_confidence_weight: number;
  /** A feedback step credits `feedback_weight · Δ(feedback total)` as its advantage. */
  feedback_weight: number;
  /** `user` (default): memories belong to (capsule, user); `capsule`: the capsule's users share them (SPEC §13.1). */
  memory_scope: 'user' | 'capsule';
  /** Most memories kept per scope; the lowest importance × recency is evicted first (SPEC §13.2). */
  memory_limit: number;
  /** A turn's answer is remembered only when its quality (real signal, else reduced self-confidence) reaches this. */
  memory_min_quality: number;
  /** The capsule's scorer (`scorerSchema`): its score is the reward's quality; absent = self-confidence at its reduced weight. */
  scorer?: ScorerConfig;
  /** Default, bounds, gain and scale of each weight. */
  weights: Record<keyof Weights, WeightRule>;
  /** Default and range of each neuromodulator. */
  neuromodulators: Record<keyof Neuromodulators, NeuromodulatorRange>;
  /** Base learning rate `lr_base`. */
  lr_base: number;
  /** Rate of the reward baseline's moving average `r̄ ← r̄ + rate·(r − r̄)` at the default dopamine level (it scales with lr_eff's dopamine factor). */
  baseline_rate: number;
  /** Reward baseline r̄ of a fresh (or reset) capsule. */
  initial_reward_baseline: number;
  /** Learning happens only when salience is strictly above this. */
  learn_threshold: number;
  /** Weight of novelty in salience. */
  salience_novelty_weight: number;
  /** Weight of |advantage| in salience. */
  salience_advantage_weight: number;
  /** Lower clamp of the dopamine factor `0.5 + dopamine` in `lr_eff`. */
  dopamine_factor_min: number;
  /** Upper clamp of the dopamine factor `0.5 + dopamine` in `lr_eff`. */
  dopamine_factor_max: number;
  /** τ decay per learned step: `τ ← max(τ_min, τ·(1 − tau_decay))`; 0 = off. */
  tau_decay: number;
  /** The reward's terms. */
  reward: RewardRule;
  /** How neuromodulators follow each iteration. */
  neuromodulator_rules: NeuromodulatorRule;
  /** Half-life of a memory's recency, in seconds: recency = 2^(−age / half-life). */
  recency_half_life_s: number;
  /** When true the turn loop maps τ to the sampling temperature (read by the loop, not by the step). */
  tau_drives_temperature: boolean;
}

/**
 * SPEC §5's learning constants in one table. Every capsule starts from these; its `learning_config`
 * jsonb may override any field (see `resolveLearningConfig`).
 */
export const learningConstants: LearningConfig = Object.freeze({
  /** The perturbation rule: SPEC §5's fixed-gain rule cannot head towards an optimum (decision note). */
  update_rule: 'perturbation',
  /** A turn recalls with each learned weight nudged by ±30% of its scale (α ± 0.45, γ ± 0.3, μ ν ± 0.15). */
  exploration: 0.3,
  /** Off: the evidence test keeps noise from moving the weights (docs/decisions/2026-12-01-learning-that-steers.md). */
  prior_strength: 0,
  /** See the decision note: the measured false-move rate of the zero-mean control against the progress of the worlds. */
  evidence_z: 3.5,
  evidence_min_samples: 8,
  evidence_window: 400,
  step_initial: 0.35,
  step_growth: 2,
  step_shrink: 0.5,
  step_max: 12,
  step_min: 0.1,
  /** Self-confidence counts half (a model's own opinion of itself is a weak signal, SPEC §13.2). */
  self_confidence_weight: 0.5,
  feedback_weight: 1,
  memory_scope: 'user',
  memory_limit: 10_000,
  memory_min_quality: 0.6,
  weights: Object.freeze({
    /**
     * α — weight of a memory's similarity to the query in recall. Default 1.0 in [0.1, 5], gain +1, scale 1.5
     * (a turn tries α ± 0.45): with its whole range (4.9) as scale the finite difference could not resolve the
     * changing-facts world's narrow good region (ratio of gain 0.47 → 1.00, docs/decisions/2026-12-01-learning-that-steers.md).
     */
    alpha: Object.freeze({ default: 1.0, min: 0.1, max: 5, gain: 1.0, rate: 1.0, scale: 1.5 }),
    /** β — weight of a memory's stored importance in recall. Default 0.2 in [0, 1], gain 0 (the gain rule does not learn it; the perturbation rule does, at rate 0.5). */
    beta: Object.freeze({ default: 0.2, min: 0, max: 1, gain: 0, rate: 0.5, scale: 1 }),
    /** γ — weight of a memory's recency in recall. Default 0.1 in [0, 1], gain −0.5. */
    gamma: Object.freeze({ default: 0.1, min: 0, max: 1, gain: -0.5, rate: 0.5, scale: 1 }),
    /** τ — softmax temperature of recall. Default 0.7 in [0.05, 2], gain 0 (the gain rule only decays it by `tau_decay`; the perturbation rule learns it at rate 0.5). */
    tau: Object.freeze({ default: 0.7, min: 0.05, max: 2, gain: 0, rate: 0.5, scale: 1.95 }),
    /** λ — planner utility of recalled weight mass. Default 1.0 in [0.1, 5], gain +1. */
    lambda: Object.freeze({ default: 1.0, min: 0.1, max: 5, gain: 1.0, rate: 1.0, scale: 4.9 }),
    /** μ — planner cost per 1,024 prompt tokens of memory. Default 0.1 in [0.01, 5], gain −0.25, scale 0.5 (its range is mostly far above useful values). */
    mu: Object.freeze({ default: 0.1, min: 0.01, max: 5, gain: -0.25, rate: 0.25, scale: 0.5 }),
    /** ν — planner cost per 10 memories. Default 0.05 in [0.01, 5], gain −0.25, scale 0.5. */
    nu: Object.freeze({ default: 0.05, min: 0.01, max: 5, gain: -0.25, rate: 0.25, scale: 0.5 }),
  }),
  neuromodulators: Object.freeze({
    /** Dopamine scales the learning rate. Default 0.4 in [0.2, 0.8]. */
    dopamine: Object.freeze({ default: 0.4, min: 0.2, max: 0.8 }),
    /** Serotonin follows quality, more slowly than dopamine. Default 0.5 in [0, 1]. */
    serotonin: Object.freeze({ default: 0.5, min: 0, max: 1 }),
    /** Norepinephrine rises with slow iterations. Default 0 in [0, 0.1]. */
    norepinephrine: Object.freeze({ default: 0, min: 0, max: 0.1 }),
    /** Acetylcholine rises with tool use. Default 0 in [0, 0.1]. */
    acetylcholine: Object.freeze({ default: 0, min: 0, max: 0.1 }),
  }),
  /** SPEC §5: `lr_base = 0.05`. */
  lr_base: 0.05,
  /** SPEC §5: r̄ is an EMA with rate 0.2 (an effective memory of about 5 learned iterations), scaled by f/f₀ like lr_eff. */
  baseline_rate: 0.2,
  /**
   * r̄ of a fresh capsule: 1.0 — the reward of a neutral iteration (quality 0.5, every tool succeeded
   * or none ran, no penalty). A 0 start would make every early iteration look much better than expected
   * (advantage ≈ +1) and push γ, μ and ν to their lower bounds before the baseline catches up.
   */
  initial_reward_baseline: 1.0,
  /** SPEC §5: learn only when salience > 0.3. */
  learn_threshold: 0.3,
  /** SPEC §5: salience = 0.5·novelty + 0.5·|a|. */
  salience_novelty_weight: 0.5,
  /** SPEC §5: salience = 0.5·novelty + 0.5·|a|. */
  salience_advantage_weight: 0.5,
  /** SPEC §5: `lr_eff = lr_base · clamp(0.5 + dopamine, 0.5, 1.2)`. */
  dopamine_factor_min: 0.5,
  /** SPEC §5: `lr_eff = lr_base · clamp(0.5 + dopamine, 0.5, 1.2)`. */
  dopamine_factor_max: 1.2,
  /** τ decay is off by default. */
  tau_decay: 0,
  reward: Object.freeze({
    /** SPEC §5: `+ 0.5 · tool_success_rate`. */
    tool_success_weight: 0.5,
    /** The first 2 s of an iteration are free. */
    latency_free_s: 2,
    /** 0.02 per second beyond the free time… */
    latency_penalty_per_s: 0.02,
    /** …capped at 0.2 (reached at 12 s). */
    latency_penalty_max: 0.2,
    /** The first 4,000 tokens (prompt + completion) of an iteration are free. */
    cost_free_tokens: 4000,
    /** 0.02 per 1,000 tokens beyond the free amount… */
    cost_penalty_per_1k_tokens: 0.02,
    /** …capped at 0.2 (reached at 14,000 tokens). */
    cost_penalty_max: 0.2,
  }),
  neuromodulator_rules: Object.freeze({
    /** SPEC §5: dopamine = clamp(0.4 + (conf − 0.5)·0.2). */
    dopamine_base: 0.4,
    /** SPEC §5: dopamine = clamp(0.4 + (conf − 0.5)·0.2). */
    dopamine_slope: 0.2,
    /** SPEC §5: serotonin = clamp(0.5 + (conf − 0.5)·0.1). */
    serotonin_base: 0.5,
    /** SPEC §5: serotonin = clamp(0.5 + (conf − 0.5)·0.1). */
    serotonin_slope: 0.1,
    /** SPEC §5: norepinephrine +0.01 when the iteration took more than 5 s. */
    norepinephrine_latency_ms: 5000,
    /** SPEC §5: norepinephrine +0.01 when the iteration took more than 5 s. */
    norepinephrine_step: 0.01,
    /** SPEC §5: acetylcholine +0.01 when tools ran. */
    acetylcholine_step: 0.01,
    /** SPEC §5: otherwise each decays 10% (×0.9). */
    decay_factor: 0.9,
  }),
  /** A memory's recency halves every 7 days. */
  recency_half_life_s: 7 * 24 * 3600,
  /** τ does not drive the sampling temperature unless a capsule asks for it. */
  tau_drives_temperature: false,
}) as LearningConfig;
