export { getLearningHistory, type LearningHistoryEntry, type LearningHistoryPage } from './learning-history.js';
export { rollbackLearning, resetLearning, type RewindResult } from './rewind-learning.js';
