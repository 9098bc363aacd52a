export * from './kafka-publisher.js';
export * from './outbox-relay.js';
export * from './retry-plan.js';
