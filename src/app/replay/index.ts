export { replayTurn, createReplayLearner, sameValue, type ReplayReport, type ReplayDifference, type ReplayOverrides } from './replay-turn.js';
export { createRecordedModel, type RecordedEnding } from './recorded-model.js';
export { replayTurnForCaller, validateReplayOverrides } from './replay-for-caller.js';
export { listReplayableTurns } from './list-replayable-turns.js';
