export * from './chat-model.js';
export * from './learning.js';
export * from './brain.js';
export * from './tools.js';
export * from './clock.js';
