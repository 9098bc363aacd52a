export type { CapsuleInput, ToolInput } from './capsule-input.js';
export { capsuleView, capabilityConfigs, type CapsuleView } from './capsule-view.js';
export { learningConfigInput, splitLearningConfig, type MessageOverflow, type SplitLearningConfig } from './validate-capsule.js';
export { createCapsule } from './create-capsule.js';
export { patchCapsule } from './patch-capsule.js';
export { capsuleFound, getCapsule, loadCapsule } from './get-capsule.js';
export { listCapsules } from './list-capsules.js';
