export * from './types.js';
export { runTurnLoop, DeadlineError, type RecordedMeasurements } from './run-turn-loop.js';
