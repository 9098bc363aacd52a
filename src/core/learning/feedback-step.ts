import { weightNames, type LearnedState, type Weights } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';
import { clamp } from './clamp.js';
import { explorationSigns } from './exploration-weights.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';
import { creditEvidence } from './weight-evidence.js';

/** What one feedback step did. */
export interface FeedbackStepResult {
  state: LearnedState;
  /** `feedback_weight · (total − credited)`: the part of the turn's feedback not credited before. */
  advantage: number;
  /** lr_eff of the step (dopamine before the step). */
  effectiveLearningRate: number;
  /** The turn's exploration draw ε the step credited. */
  exploration: Weights;
  deltas: Weights;
}

/**
 * A user's feedback on a turn as one learning step (SPEC §13.2): the turn's feedback total (the sum of
 * each user's latest score in [−1, 1]) minus what earlier feedback steps of the turn already credited is
 * the advantage, credited to that turn's exploration draw exactly like an iteration's advantage (the
 * same evidence, the same test, the same moves). No salience gate — a person said it — and the reward
 * baseline and neuromodulators stay: they describe iterations, and feedback is not one. Pure: the same
 * state, totals, seed and config always give the same result.
 */
export function feedbackStep({
  state,
  total,
  credited,
  seed,
  laneSensitive,
  config = learningConstants,
}: {
  state: LearnedState;
  /** The turn's feedback total after this feedback. */
  total: number;
  /** The total earlier feedback steps of the turn brought the credit to (0 for the first). */
  credited: number;
  /** The turn's seed (its exploration draw). */
  seed: number;
  laneSensitive?: readonly (keyof Weights)[] | undefined;
  config?: LearningConfig;
}): FeedbackStepResult {
  if (!Number.isFinite(total) || !Number.isFinite(credited)) throw new SomaError('VALIDATION_FAILED', 'feedback totals must be finite numbers');
  const advantage = config.feedback_weight * (total - credited);
  const factor = clamp(0.5 + state.neuromodulators.dopamine, config.dopamine_factor_min, config.dopamine_factor_max);
  const effectiveLearningRate = config.lr_base * factor;
  const exploration = explorationSigns({ seed, config });
  const deltas: Weights = { alpha: 0, beta: 0, gamma: 0, tau: 0, lambda: 0, mu: 0, nu: 0 };
  if (config.update_rule !== 'perturbation' || advantage === 0) return { state, advantage, effectiveLearningRate, exploration, deltas };
  const credit = creditEvidence({ weights: state.weights, evidence: state.evidence, advantage, signs: exploration, sensitive: laneSensitive, learningRate: effectiveLearningRate, config });
  for (const name of weightNames) deltas[name] = credit.weights[name] - state.weights[name];
  return {
    state: { ...state, weights: credit.weights, evidence: credit.evidence },
    advantage,
    effectiveLearningRate,
    exploration,
    deltas,
  };
}
