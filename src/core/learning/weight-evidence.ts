import { weightNames, type Evidence, type WeightEvidence, type Weights } from '../../ports/learning.js';
import { clamp } from './clamp.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

/** What one credit did to the weights and their evidence. */
export interface EvidenceUpdate {
  weights: Weights;
  evidence: Evidence;
  /** Weights that moved on this credit, with the signed move. */
  moves: Partial<Record<keyof Weights, number>>;
}

/** A weight's evidence before any credit: nothing seen, the initial step multiplier. */
export function freshEvidence(config: LearningConfig = learningConstants): WeightEvidence {
  return { n: 0, sum: 0, sum_sq: 0, step: config.step_initial, last: 0 };
}

/**
 * The `perturbation` rule's credit (docs/decisions/2026-12-01-learning-that-steers.md). Each learned
 * weight p whose exploration sign ε_p mattered to the turn (`sensitive`) collects the evidence
 * `g = a·ε_p`: `n += 1, sum += g, sum_sq += g²`. Because ε_p is the turn's own fair coin, under "the
 * reward does not depend on p" the sum has mean 0 and variance `sum_sq` whatever the rewards are, so
 * `t = sum / √sum_sq` is a standard score that needs no model of the reward's noise. Only when
 * `|t| > evidence_z` (after at least `evidence_min_samples` credits) does p move, by
 * `sign(sum) · lr_eff · step_p · rate_p · scale_p` (clamped), and its evidence starts again; a test
 * that reaches `evidence_window` credits without a decision also starts again. The step multiplier
 * grows by `step_growth` when a move goes the way of the previous one and shrinks by `step_shrink` when
 * it turns back (Rprop), within `[step_min, step_max]`: consistent evidence travels fast, noise that
 * happens to pass the test once moves a weight by one small step.
 */
export function creditEvidence({
  weights,
  evidence,
  advantage,
  signs,
  sensitive,
  learningRate,
  config = learningConstants,
}: {
  weights: Weights;
  evidence: Evidence | undefined;
  advantage: number;
  /** The turn's exploration draw ε (0 for weights that were not explored). */
  signs: Weights;
  /** Weights whose sign changed the turn's memory lane; undefined = every explored weight. */
  sensitive: readonly (keyof Weights)[] | undefined;
  /** lr_eff of this step. */
  learningRate: number;
  config?: LearningConfig;
}): EvidenceUpdate {
  const next: Weights = { ...weights };
  const out: Evidence = { ...evidence };
  const moves: EvidenceUpdate['moves'] = {};
  for (const name of weightNames) {
    const rule = config.weights[name];
    if (rule.rate <= 0 || signs[name] === 0) continue;
    if (sensitive !== undefined && !sensitive.includes(name)) continue;
    const before = out[name] ?? freshEvidence(config);
    const g = advantage * signs[name];
    const acc: WeightEvidence = { ...before, n: before.n + 1, sum: before.sum + g, sum_sq: before.sum_sq + g * g };
    const score = acc.sum_sq > 0 ? acc.sum / Math.sqrt(acc.sum_sq) : 0;
    if (acc.n >= config.evidence_min_samples && Math.abs(score) > config.evidence_z) {
      const direction = acc.sum > 0 ? 1 : -1;
      const step =
        before.last === 0 ? before.step : before.last === direction ? Math.min(config.step_max, before.step * config.step_growth) : Math.max(config.step_min, before.step * config.step_shrink);
      const target = clamp(weights[name] + direction * learningRate * step * rule.rate * rule.scale, rule.min, rule.max);
      if (target !== weights[name]) moves[name] = target - weights[name];
      next[name] = target;
      out[name] = { n: 0, sum: 0, sum_sq: 0, step, last: direction };
    } else if (acc.n >= config.evidence_window) {
      out[name] = { ...acc, n: 0, sum: 0, sum_sq: 0 };
    } else {
      out[name] = acc;
    }
  }
  return { weights: next, evidence: out, moves };
}
