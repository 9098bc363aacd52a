export * from './lanes.js';
export * from './build-context.js';
export * from './memory-lane.js';
export * from './refine-instruction.js';
