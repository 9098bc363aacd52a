export { clamp } from './clamp.js';
export { computeReward, qualityOf, assertFiniteMetrics, type LearningMetrics, type Reward } from './compute-reward.js';
export { defaultLearnedState } from './default-learned-state.js';
export {
  learningConstants,
  type LearningConfig,
  type WeightRule,
  type NeuromodulatorRange,
  type RewardRule,
  type NeuromodulatorRule,
} from './learning-constants.js';
export { learningStep, type LearningStepResult } from './learning-step.js';
export { explorationWeights, explorationSigns, type Exploration } from './exploration-weights.js';
export { nextNeuromodulators } from './next-neuromodulators.js';
export { resolveLearningConfig, parseLearningConfig, learningConfigOverridesSchema, type LearningConfigOverrides } from './resolve-learning-config.js';
export { scoreMemories, recencyOf, type MemoryCandidate, type ScoredMemory } from './score-memories.js';
export { selectMemoriesForLane, type LaneSelection } from './select-memories-for-lane.js';
export { textSimilarity } from './text-similarity.js';
