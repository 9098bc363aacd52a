import type { Repositories } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { apiKeyRepository } from './api-key-repository.js';
import { approvalRepository } from './approval-repository.js';
import { capsuleRepository } from './capsule-repository.js';
import { conversationRepository } from './conversation-repository.js';
import { evalRepository } from './eval-repository.js';
import { eventRepository } from './event-repository.js';
import { feedbackRepository } from './feedback-repository.js';
import { iterationRepository } from './iteration-repository.js';
import { learningUpdateRepository } from './learning-update-repository.js';
import { messageRepository } from './message-repository.js';
import { outboxWriter } from './outbox-writer.js';
import { streamEventRepository } from './stream-event-repository.js';
import { tenantRepository } from './tenant-repository.js';
import { turnRepository } from './turn-repository.js';
import { usageRepository } from './usage-repository.js';

export { columnsOf } from './json-row.js';
export { learningSourceOf } from './learning-update-repository.js';

/** Every repository over one executor (the database, or an open transaction). */
export function repositoriesOf(db: Executor): Repositories {
  return {
    tenants: tenantRepository(db),
    apiKeys: apiKeyRepository(db),
    capsules: capsuleRepository(db),
    conversations: conversationRepository(db),
    messages: messageRepository(db),
    turns: turnRepository(db),
    iterations: iterationRepository(db),
    learningUpdates: learningUpdateRepository(db),
    events: eventRepository(db),
    streamEvents: streamEventRepository(db),
    approvals: approvalRepository(db),
    usage: usageRepository(db),
    feedback: feedbackRepository(db),
    evals: evalRepository(db),
    outbox: outboxWriter(db),
  };
}
