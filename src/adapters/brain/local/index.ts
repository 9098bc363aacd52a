export { createLocalBrain, searchTerms, type LocalBrain } from './local-brain.js';
