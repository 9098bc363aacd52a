import { neuromodulatorNames, weightNames, type LearnedState, type Weights } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';
import { clamp } from './clamp.js';
import { computeReward, type LearningMetrics, type Reward } from './compute-reward.js';
import { explorationSigns } from './exploration-weights.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';
import { nextNeuromodulators } from './next-neuromodulators.js';
import { creditEvidence } from './weight-evidence.js';

/** What one learning step produced. */
export interface LearningStepResult {
  /** The state after the step. */
  state: LearnedState;
  /** Reward r of the iteration. */
  reward: number;
  /** The reward's terms. */
  rewardTerms: Reward;
  /** Advantage a = r − r̄, with r̄ the baseline *before* this step. */
  advantage: number;
  /** salience = 0.5·novelty + 0.5·|a|. */
  salience: number;
  /** Whether salience passed `learn_threshold`, so the weights and the baseline moved. */
  learned: boolean;
  /** lr_base · clamp(0.5 + dopamine, 0.5, 1.2), with the dopamine level *before* this step. */
  effectiveLearningRate: number;
  /** Per-weight change after − before (all 0 when `learned` is false). */
  deltas: Weights;
  /** The turn's exploration draw ε the step credited (`perturbation` rule; all 0 under `gain` or without a seed). */
  exploration: Weights;
  /** Whether this step added to the weights' evidence (`perturbation` rule: learned, seeded, and the turn's first iteration). */
  credited: boolean;
}

/**
 * One step of the brain (SPEC §5 steps 1–5, with the update rule of docs/decisions/2026-11-24-learning-step.md);
 * pure and deterministic: the same state, metrics (seed included) and config always give bit-identical results.
 *
 * 1. reward r (see `computeReward`);
 * 2. advantage a = r − r̄ (r̄ before this step);
 * 3. salience = 0.5·novelty + 0.5·|a|; learn only if salience > learn_threshold;
 * 4. if learning: lr_eff = lr_base·f with f = clamp(0.5 + dopamine, 0.5, 1.2) (dopamine before this
 *    step), and for each weight in a fixed order
 *    - `perturbation` (default): the advantage is credited to the turn's exploration draw ε (from
 *      `metrics.seed`, `explorationSigns`; the turn recalled with p + ε·exploration·scale): each weight
 *      whose sign mattered to the lane gathers the evidence a·ε_p and moves only once that evidence is
 *      significant (`creditEvidence`). In expectation a·ε_p follows the reward's slope (a finite
 *      difference); the test keeps rewards that say nothing about p from moving it. Only the turn's first
 *      iteration credits (`creditExploration`): later iterations share its ε, so crediting them too would
 *      count one draw several times. With `prior_strength` > 0 each learned weight is also pulled
 *      towards its default by lr_eff·prior_strength·(p − default).
 *    - `gain` (SPEC §5 literal): p ← clamp(p + lr_eff·gain_p·a, p_min, p_max);
 *    then τ ← max(τ_min, τ·(1 − tau_decay)); and r̄ ← r̄ + ρ·(r − r̄) with ρ = baseline_rate·f/f₀, where
 *    f₀ is f at the default dopamine (so ρ = 0.2 at default dopamine);
 * 5. neuromodulators follow the iteration (see `nextNeuromodulators`) — on every step, gated or not:
 *    they describe what just happened, not what was learned from it.
 *
 * Why r̄ moves only on learned steps and at a rate that follows dopamine: under the `gain` rule every
 * learned step then moves p by lr_eff·gain·a = (lr_base·f₀/baseline_rate)·gain·Δr̄, so until a bound
 * clamps, p = p₀ + (lr_base·f₀/baseline_rate)·gain_p·(r̄ − r̄₀) exactly, and the weights cannot
 * random-walk. Updating r̄ on every step lets gated-off advantages leak out of the baseline.
 * Both measured in docs/decisions/2026-11-24-learning-step.md.
 */
export function learningStep({
  state,
  metrics,
  config = learningConstants,
  creditExploration = true,
}: {
  state: LearnedState;
  metrics: LearningMetrics;
  config?: LearningConfig;
  /** Whether this step may add to the evidence (`perturbation` rule); the brain passes `iteration_number === 0`. */
  creditExploration?: boolean;
}): LearningStepResult {
  assertFiniteState(state);
  const rewardTerms = computeReward({ metrics, config });
  const reward = rewardTerms.reward;

  const baselineBefore = state.rewardBaseline;
  const advantage = reward - baselineBefore;

  const novelty = clamp(metrics.novelty, 0, 1);
  const salience = config.salience_novelty_weight * novelty + config.salience_advantage_weight * Math.abs(advantage);
  const learned = salience > config.learn_threshold;

  const dopamineFactor = clamp(0.5 + state.neuromodulators.dopamine, config.dopamine_factor_min, config.dopamine_factor_max);
  const referenceFactor = clamp(0.5 + config.neuromodulators.dopamine.default, config.dopamine_factor_min, config.dopamine_factor_max);
  const effectiveLearningRate = config.lr_base * dopamineFactor;
  const baselineRate = Math.min(1, (config.baseline_rate * dopamineFactor) / referenceFactor);
  const rewardBaseline = learned ? baselineBefore + baselineRate * advantage : baselineBefore;

  const before = state.weights;
  let weights: Weights = { ...before };
  let evidence = state.evidence;
  const deltas: Weights = { alpha: 0, beta: 0, gamma: 0, tau: 0, lambda: 0, mu: 0, nu: 0 };
  const exploration = explorationSigns({ seed: metrics.seed, config });
  let credited = false;
  if (config.update_rule === 'perturbation' && creditExploration && metrics.seed !== undefined) {
    // The evidence is gathered on every step, gated or not: its test already keeps noise from moving a
    // weight, and the salience gate would starve it where the reward's signal is small (measured on the
    // cost-sensitive world: no move at all in 300 turns with the gate in front of the evidence).
    const credit = creditEvidence({ weights, evidence, advantage, signs: exploration, sensitive: metrics.lane_sensitive, learningRate: effectiveLearningRate, config });
    weights = credit.weights;
    evidence = credit.evidence;
    credited = true;
  }
  if (learned) {
    if (config.update_rule === 'gain') {
      for (const name of weightNames) {
        const rule = config.weights[name];
        weights[name] = clamp(before[name] + effectiveLearningRate * rule.gain * advantage, rule.min, rule.max);
      }
    } else if (config.prior_strength > 0) {
      for (const name of weightNames) {
        const rule = config.weights[name];
        if (rule.rate > 0) weights[name] = clamp(weights[name] - effectiveLearningRate * config.prior_strength * (weights[name] - rule.default), rule.min, rule.max);
      }
    }
    if (config.tau_decay > 0) {
      const tauRule = config.weights.tau;
      weights.tau = clamp(Math.max(tauRule.min, weights.tau * (1 - config.tau_decay)), tauRule.min, tauRule.max);
    }
  }
  for (const name of weightNames) deltas[name] = weights[name] - before[name];

  const neuromodulators = nextNeuromodulators({ neuromodulators: state.neuromodulators, metrics, config });

  return {
    state: { weights, neuromodulators, rewardBaseline, ...(evidence !== undefined ? { evidence } : {}) },
    reward,
    rewardTerms,
    advantage,
    salience,
    learned,
    effectiveLearningRate,
    deltas,
    exploration,
    credited,
  };
}

function assertFiniteState(state: LearnedState): void {
  const bad: string[] = [];
  for (const name of weightNames) if (!Number.isFinite(state.weights[name])) bad.push(`weights.${name}`);
  for (const name of neuromodulatorNames) if (!Number.isFinite(state.neuromodulators[name])) bad.push(`neuromodulators.${name}`);
  if (!Number.isFinite(state.rewardBaseline)) bad.push('rewardBaseline');
  if (bad.length > 0) throw new SomaError('VALIDATION_FAILED', `Learned state must hold finite numbers: ${bad.join(', ')}`, { details: bad });
}
