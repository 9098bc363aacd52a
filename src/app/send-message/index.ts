export { sendMessage, runPreparedTurn, type SendMessageInput } from './send-message.js';
export { prepareTurn, type PreparedTurn } from './prepare-turn.js';
export { recoverInterruptedTurns } from './recover-interrupted-turns.js';
export { metricModelLabel } from './turn-sink.js';
export type { TurnEvent, TurnCompleted, IterationCompletedData, OnTurnEvent } from './turn-events.js';
