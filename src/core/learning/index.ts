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
  type ScorerConfig,
} from './learning-constants.js';
export { learningStep, type LearningStepResult } from './learning-step.js';
export { explorationWeights, explorationSigns, flippedExplorationWeights, type Exploration } from './exploration-weights.js';
export { nextNeuromodulators } from './next-neuromodulators.js';
export { resolveLearningConfig, parseLearningConfig, learningConfigOverridesSchema, scorerSchema, type LearningConfigOverrides } from './resolve-learning-config.js';
export { scoreMemories, recencyOf, type MemoryCandidate, type ScoredMemory } from './score-memories.js';
export { selectMemoriesForLane, type LaneSelection } from './select-memories-for-lane.js';
export { textSimilarity } from './text-similarity.js';
export { feedbackStep, type FeedbackStepResult } from './feedback-step.js';
export { creditEvidence, freshEvidence, type EvidenceUpdate } from './weight-evidence.js';
export { junkDraft, ECHO_SIMILARITY, type JunkReason } from './answer-quality.js';
