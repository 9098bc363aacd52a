import type { LearnedState } from '../../ports/learning.js';
import { learningConstants, type LearningConfig } from './learning-constants.js';

/**
 * The learned state of a fresh (or reset) capsule: every weight and neuromodulator at its default,
 * and the reward baseline at `initial_reward_baseline` (1.0, the reward of a neutral iteration).
 */
export function defaultLearnedState({ config = learningConstants }: { config?: LearningConfig } = {}): LearnedState {
  const w = config.weights;
  const n = config.neuromodulators;
  return {
    weights: {
      alpha: w.alpha.default,
      beta: w.beta.default,
      gamma: w.gamma.default,
      tau: w.tau.default,
      lambda: w.lambda.default,
      mu: w.mu.default,
      nu: w.nu.default,
    },
    neuromodulators: {
      dopamine: n.dopamine.default,
      serotonin: n.serotonin.default,
      norepinephrine: n.norepinephrine.default,
      acetylcholine: n.acetylcholine.default,
    },
    rewardBaseline: config.initial_reward_baseline,
  };
}
