export * from './confidence.js';
export * from './convergence.js';
export * from './exit-rules.js';
export * from './budget.js';
export * from './best-draft.js';
export * from './repeated-draft.js';
export * from './single-shot.js';
