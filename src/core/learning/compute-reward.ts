import type { TurnMetrics } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';
import { clamp } from './clamp.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

/** The metrics of one iteration that the learning step reads (a subset of {@link TurnMetrics}). */
export type LearningMetrics = Pick<
  TurnMetrics,
  'confidence' | 'convergence_score' | 'tool_success_rate' | 'latency_ms' | 'prompt_tokens' | 'completion_tokens' | 'novelty' | 'tools_used' | 'seed' | 'lane_sensitive' | 'answer_score'
>;

/** The reward and each of its terms, so a stored step can be explained. */
export interface Reward {
  /** r = quality + tool_term − latency_penalty − cost_penalty. */
  reward: number;
  /**
   * The answer's real score (`answer_score`) when given, else `0.5 + self_confidence_weight · (c − 0.5)`
   * with c the confidence, or the convergence score when confidence is null; in [0, 1].
   */
  quality: number;
  /** `tool_success_weight · tool_success_rate` (rate clamped to [0, 1]). */
  toolTerm: number;
  /** `min(latency_penalty_max, latency_penalty_per_s · max(0, latency_s − latency_free_s))`. */
  latencyPenalty: number;
  /** `min(cost_penalty_max, cost_penalty_per_1k_tokens · max(0, tokens − cost_free_tokens) / 1000)`, tokens = prompt + completion. */
  costPenalty: number;
}

/**
 * SPEC §5 step 1: `r = confidence_or_convergence + 0.5·tool_success_rate − latency_penalty − cost_penalty`.
 * With the defaults r ∈ [−0.4, 1.5]. Non-finite metrics throw `VALIDATION_FAILED`; finite values
 * outside their range are clamped into it (rates to [0, 1], latency and tokens to ≥ 0).
 */
export function computeReward({ metrics, config = learningConstants }: { metrics: LearningMetrics; config?: LearningConfig }): Reward {
  assertFiniteMetrics(metrics);
  const rule = config.reward;
  const quality = qualityOf(metrics, config);
  const toolTerm = rule.tool_success_weight * clamp(metrics.tool_success_rate, 0, 1);
  const latencySeconds = Math.max(0, metrics.latency_ms) / 1000;
  const latencyPenalty = Math.min(rule.latency_penalty_max, rule.latency_penalty_per_s * Math.max(0, latencySeconds - rule.latency_free_s));
  const tokens = Math.max(0, metrics.prompt_tokens) + Math.max(0, metrics.completion_tokens);
  const costPenalty = Math.min(rule.cost_penalty_max, (rule.cost_penalty_per_1k_tokens * Math.max(0, tokens - rule.cost_free_tokens)) / 1000);
  const reward = quality + toolTerm - latencyPenalty - costPenalty;
  return { reward, quality, toolTerm, latencyPenalty, costPenalty };
}

/**
 * The quality term of the reward: the answer's real score when one is given (a scorer, or 0 for a
 * junk draft), else self-confidence at a reduced weight — confidence when known, else the convergence
 * score, pulled towards the neutral 0.5 by `self_confidence_weight`. In [0, 1].
 */
export function qualityOf(metrics: Pick<LearningMetrics, 'confidence' | 'convergence_score' | 'answer_score'>, config: LearningConfig = learningConstants): number {
  if (metrics.answer_score !== undefined && metrics.answer_score !== null) return clamp(metrics.answer_score, 0, 1);
  const self = clamp(metrics.confidence ?? metrics.convergence_score, 0, 1);
  return 0.5 + config.self_confidence_weight * (self - 0.5);
}

/** Throws `VALIDATION_FAILED` naming every metric that is not a finite number. */
export function assertFiniteMetrics(metrics: LearningMetrics): void {
  const fields = ['convergence_score', 'tool_success_rate', 'latency_ms', 'prompt_tokens', 'completion_tokens', 'novelty'] as const;
  const bad: string[] = fields.filter((field) => !Number.isFinite(metrics[field]));
  if (metrics.confidence !== null && !Number.isFinite(metrics.confidence)) bad.push('confidence');
  if (!Array.isArray(metrics.tools_used)) bad.push('tools_used');
  if (metrics.seed !== undefined && !Number.isSafeInteger(metrics.seed)) bad.push('seed');
  if (metrics.answer_score !== undefined && metrics.answer_score !== null && !Number.isFinite(metrics.answer_score)) bad.push('answer_score');
  if (bad.length > 0) throw new SomaError('VALIDATION_FAILED', `Learning metrics must be finite numbers: ${bad.join(', ')}`, { details: bad });
}
