export * from './dataset.js';
export * from './scorers.js';
export * from './summary.js';
export * from './configurations.js';
