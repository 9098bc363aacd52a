export * from './lanes.js';
export * from './build-context.js';
