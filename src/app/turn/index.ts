export * from './types.js';
export { runTurnLoop, DeadlineError, textKey, tokenCountOf, type RecordedMeasurements } from './run-turn-loop.js';
export type { AnswerSignal } from './answer-signal.js';
export { createBrainLearner } from './brain-learner.js';
export { withTimeout } from './with-timeout.js';
export { traceTurn } from './tracing.js';
export { InterruptedError } from './turn-deadline.js';
export { isAwaitingApproval } from './tool-stage.js';
