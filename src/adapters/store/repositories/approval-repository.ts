import { and, asc, count, desc, eq, lt } from 'drizzle-orm';
import type { ApprovalRecord, ApprovalRepository } from '../../../ports/store.js';
import type { ToolOutcome } from '../../../ports/tools.js';
import type { Executor } from '../database.js';
import { approvals, conversationParticipants } from '../schema.js';
import { olderThan } from './keyset.js';

const toApproval = (row: typeof approvals.$inferSelect): ApprovalRecord => ({ ...row, outcome: row.outcome as ToolOutcome | null });

export function approvalRepository(db: Executor): ApprovalRepository {
  return {
    async insertMany(rows) {
      if (rows.length > 0) await db.insert(approvals).values(rows);
    },
    async find(turnId, callId) {
      const [row] = await db.select().from(approvals).where(and(eq(approvals.turnId, turnId), eq(approvals.callId, callId)));
      return row && toApproval(row);
    },
    async listByTurn(turnId) {
      const rows = await db.select().from(approvals).where(eq(approvals.turnId, turnId)).orderBy(asc(approvals.iterationNumber), asc(approvals.requestedAt), asc(approvals.id));
      return rows.map(toApproval);
    },
    async decide(turnId, callId, { status, reason, decidedBy, at }) {
      const [row] = await db
        .update(approvals)
        .set({ status, reason, decidedBy, decidedAt: at })
        .where(and(eq(approvals.turnId, turnId), eq(approvals.callId, callId), eq(approvals.status, 'pending')))
        .returning();
      return row && toApproval(row);
    },
    async setOutcome(turnId, callId, outcome) {
      await db.update(approvals).set({ outcome }).where(and(eq(approvals.turnId, turnId), eq(approvals.callId, callId)));
    },
    async countPending(turnId) {
      const [row] = await db.select({ n: count() }).from(approvals).where(and(eq(approvals.turnId, turnId), eq(approvals.status, 'pending')));
      return Number(row?.n ?? 0);
    },
    async listExpired(now, limit) {
      const rows = await db.select().from(approvals).where(and(eq(approvals.status, 'pending'), lt(approvals.expiresAt, now))).orderBy(asc(approvals.expiresAt)).limit(limit);
      return rows.map(toApproval);
    },
    async listForUser(tenantId, userId, { status, limit, after }) {
      const rows = await db
        .select({ approval: approvals })
        .from(approvals)
        .innerJoin(conversationParticipants, and(eq(conversationParticipants.conversationId, approvals.conversationId), eq(conversationParticipants.userId, userId)))
        .where(and(eq(approvals.tenantId, tenantId), status ? eq(approvals.status, status) : undefined, olderThan(approvals.requestedAt, approvals.id, after)))
        .orderBy(desc(approvals.requestedAt), desc(approvals.id))
        .limit(limit);
      return rows.map((row) => toApproval(row.approval));
    },
  };
}
