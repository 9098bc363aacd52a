import { weightNames, type Weights } from '../../ports/learning.js';
import { mulberry32 } from '../../shared/mulberry32.js';
import { clamp } from './clamp.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

/** The nudged weights a turn recalls with, and the draw behind them. */
export interface Exploration {
  /** The weights to use for memory recall and the lane planner this turn (clamped to their bounds). */
  weights: Weights;
  /** `weights − input weights` per weight (0 for weights that are not learned or not explored). */
  nudge: Weights;
  /** The turn's draw ε ∈ {−1, 0, +1} per weight: ±1 for explored weights, 0 otherwise. */
  signs: Weights;
}

const zeroWeights = (): Weights => ({ alpha: 0, beta: 0, gamma: 0, tau: 0, lambda: 0, mu: 0, nu: 0 });

/**
 * The turn's exploration draw ε: one ±1 per weight, a pure function of the seed (mulberry32 stream,
 * weights in `weightNames` order). Weights that are not learned (gain 0), a zero `exploration`, the
 * `gain` update rule or a missing seed give 0 — nothing was explored, so nothing can be credited.
 */
export function explorationSigns({ seed, config = learningConstants }: { seed: number | undefined; config?: LearningConfig }): Weights {
  const signs = zeroWeights();
  if (seed === undefined || config.update_rule !== 'perturbation' || !(config.exploration > 0)) return signs;
  const random = mulberry32(seed);
  for (const name of weightNames) {
    const heads = random() >= 0.5; // the draw's top bit
    if (config.weights[name].rate > 0) signs[name] = heads ? 1 : -1;
  }
  return signs;
}

/**
 * The weights a turn should recall with under the `perturbation` rule: each learned weight nudged by
 * `ε · exploration · scale` (then clamped), with ε from {@link explorationSigns}. Pure: the same
 * weights, seed and config always give the same nudge, so replay reproduces the recall exactly. The
 * draw is per turn (the memory lane is recalled once per turn); every iteration of the turn then learns
 * with the same ε. Under the `gain` rule the weights come back unchanged.
 */
export function explorationWeights({
  weights,
  seed,
  config = learningConstants,
}: {
  weights: Weights;
  seed: number | undefined;
  config?: LearningConfig;
}): Exploration {
  const signs = explorationSigns({ seed, config });
  const nudged: Weights = { ...weights };
  const nudge = zeroWeights();
  for (const name of weightNames) {
    if (signs[name] === 0) continue;
    const rule = config.weights[name];
    nudged[name] = clamp(weights[name] + signs[name] * config.exploration * rule.scale, rule.min, rule.max);
    nudge[name] = nudged[name] - weights[name];
  }
  return { weights: nudged, nudge, signs };
}

/**
 * For each explored weight p, the turn's recall weights with only p's exploration sign reversed: what
 * the lane would have been had the coin for p fallen the other way (`laneSensitiveWeights`).
 */
export function flippedExplorationWeights({
  weights,
  seed,
  config = learningConstants,
}: {
  weights: Weights;
  seed: number | undefined;
  config?: LearningConfig;
}): Partial<Record<keyof Weights, Weights>> {
  const { weights: nudged, signs } = explorationWeights({ weights, seed, config });
  const out: Partial<Record<keyof Weights, Weights>> = {};
  for (const name of weightNames) {
    if (signs[name] === 0) continue;
    const rule = config.weights[name];
    out[name] = { ...nudged, [name]: clamp(weights[name] - signs[name] * config.exploration * rule.scale, rule.min, rule.max) };
  }
  return out;
}
