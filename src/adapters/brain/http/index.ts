export { createHttpBrain, type HttpBrain, type HttpBrainOptions, type LearnedStateWire, type PublishTurnMetricsWire } from './http-brain.js';
