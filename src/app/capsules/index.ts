export type { CapsuleInput, ToolInput } from './capsule-input.js';
export { capsuleView, capabilityConfigs, type CapsuleView } from './capsule-view.js';
export { splitLearningConfig, type SplitLearningConfig } from './validate-capsule.js';
export { createCapsule } from './create-capsule.js';
export { patchCapsule } from './patch-capsule.js';
export { getCapsule, loadCapsule } from './get-capsule.js';
export { listCapsules } from './list-capsules.js';
