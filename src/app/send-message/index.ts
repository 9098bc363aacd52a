export { sendMessage, runPreparedTurn, startPreparedTurn, type SendMessageInput } from './send-message.js';
export { prepareTurn, type PreparedTurn } from './prepare-turn.js';
export { recoverInterruptedTurns, TAKEOVER_ID_GAP } from './recover-interrupted-turns.js';
export { continueTurn } from './continue-turn.js';
export { DEFAULT_APPROVAL_TIMEOUT_S } from './run-turn.js';
export { metricModelLabel } from './turn-sink.js';
export { isPaused, type TurnEvent, type TurnCompleted, type TurnPaused, type TurnRunOutcome, type IterationCompletedData, type OnTurnEvent } from './turn-events.js';
