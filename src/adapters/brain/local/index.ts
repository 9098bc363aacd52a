export { createLocalBrain, searchTerms, type LocalBrain } from './local-brain.js';
export { appendLearningUpdate, lockCapsuleState, readCapsuleState, isUuid, capsuleNotFound, type LockedCapsuleState, type LedgerTx, type NewLearningUpdate } from './learning-ledger.js';
