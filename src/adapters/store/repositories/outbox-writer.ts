import type { Outbox } from '../../../ports/outbox.js';
import type { Executor } from '../database.js';
import { outboxMessages } from '../schema.js';

export function outboxWriter(db: Executor): Outbox {
  return {
    async append(message) {
      await db.insert(outboxMessages).values(message);
    },
  };
}
