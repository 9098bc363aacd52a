import { and, eq, sql } from 'drizzle-orm';
import type { FeedbackRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { turnFeedback } from '../schema.js';

export function feedbackRepository(db: Executor): FeedbackRepository {
  return {
    async find(turnId, userId) {
      const [row] = await db.select().from(turnFeedback).where(and(eq(turnFeedback.turnId, turnId), eq(turnFeedback.userId, userId)));
      return row ? { ...row } : undefined;
    },
    async save(feedback) {
      // The turn's next revision is taken in the same statement; two posts racing for it meet the unique index and one retries.
      const revision = sql<number>`(select coalesce(max(${turnFeedback.revision}), 0) + 1 from ${turnFeedback} where ${turnFeedback.turnId} = ${feedback.turnId})`;
      const [row] = await db
        .insert(turnFeedback)
        .values({ ...feedback, revision, createdAt: feedback.at, updatedAt: feedback.at })
        .onConflictDoUpdate({ target: [turnFeedback.turnId, turnFeedback.userId], set: { score: feedback.score, comment: feedback.comment, revision, updatedAt: feedback.at } })
        .returning({ revision: turnFeedback.revision });
      return row!.revision;
    },
    async updateComment(turnId, userId, comment, at) {
      await db.update(turnFeedback).set({ comment, updatedAt: at }).where(and(eq(turnFeedback.turnId, turnId), eq(turnFeedback.userId, userId)));
    },
    async total(turnId) {
      const [row] = await db.select({ total: sql<number>`coalesce(sum(${turnFeedback.score}), 0)::float8` }).from(turnFeedback).where(eq(turnFeedback.turnId, turnId));
      return Number(row?.total ?? 0);
    },
  };
}
