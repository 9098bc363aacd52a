import { and, asc, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import { tables, type Database } from '../adapters/store/index.js';
import { SomaError } from '../shared/errors.js';
import { decodeCursor, encodeCursor } from './capsules.js';
import { messageView } from './conversations.js';
import type { Caller } from './tenancy.js';

type IterationRow = typeof tables.rlmIterations.$inferSelect;

export function iterationView(row: IterationRow) {
  return {
    id: row.id,
    turn_id: row.turnId,
    conversation_id: row.conversationId,
    iteration_number: row.iterationNumber,
    content: row.content,
    llm_output: row.llmOutput,
    weights_before: row.weightsBefore,
    weights_after: row.weightsAfter,
    weight_deltas: row.weightDeltas,
    neuromodulators_before: row.neuromodulatorsBefore,
    neuromodulators_after: row.neuromodulatorsAfter,
    model: row.model,
    confidence: row.confidence,
    latency_ms: row.latencyMs,
    tool_calls: row.toolCalls,
    tool_results: row.toolResults,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    convergence_score: row.convergenceScore,
    exit_reason: row.exitReason,
    metadata: row.metadata,
    started_at: row.startedAt.toISOString(),
    completed_at: row.completedAt.toISOString(),
    created_at: row.createdAt.toISOString(),
  };
}

/** `GET /v1/trace/:turn_id` — every iteration of a turn of the caller's tenant; else TURN_NOT_FOUND. */
export async function getTurnTrace({ database, caller, turnId, includeMessages }: { database: Database; caller: Caller; turnId: string; includeMessages: boolean }) {
  const [turn] = await database.db
    .select()
    .from(tables.turns)
    .where(and(eq(tables.turns.id, turnId), eq(tables.turns.tenantId, caller.tenantId)));
  if (!turn) throw new SomaError('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const iterations = await database.db.select().from(tables.rlmIterations).where(eq(tables.rlmIterations.turnId, turnId)).orderBy(asc(tables.rlmIterations.iterationNumber));
  const messages = includeMessages
    ? (await database.db.select().from(tables.messages).where(eq(tables.messages.turnId, turnId)).orderBy(asc(tables.messages.createdAt))).map(messageView)
    : undefined;
  return {
    turn_id: turn.id,
    conversation_id: turn.conversationId,
    capsule_id: turn.capsuleId,
    status: turn.status,
    exit_reason: turn.exitReason,
    total_iterations: iterations.length,
    convergence_score: turn.convergenceScore,
    threshold: (turn.settings as { threshold?: number } | null)?.threshold ?? null,
    seed: turn.seed,
    weights_start: turn.weightsStart,
    neuromodulators_start: turn.neuromodulatorsStart,
    started_at: turn.startedAt.toISOString(),
    completed_at: turn.completedAt?.toISOString() ?? null,
    ...(turn.error ? { error: turn.error } : {}),
    iterations: iterations.map(iterationView),
    ...(messages ? { messages } : {}),
  };
}

/** `GET /v1/trace/conversation/:id` — turns newest first with a stable keyset cursor. */
export async function getConversationTrace({ database, caller, conversationId, limit, cursor }: { database: Database; caller: Caller; conversationId: string; limit: number; cursor?: string }) {
  const [conversation] = await database.db
    .select({ id: tables.conversations.id })
    .from(tables.conversations)
    .where(and(eq(tables.conversations.id, conversationId), eq(tables.conversations.tenantId, caller.tenantId)));
  if (!conversation) throw new SomaError('CONVERSATION_NOT_FOUND', `conversation ${conversationId} not found`);
  const after = cursor ? decodeCursor(cursor) : undefined;
  const [{ total } = { total: 0 }] = await database.db
    .select({ total: sql<number>`count(*)::int` })
    .from(tables.turns)
    .where(eq(tables.turns.conversationId, conversationId));
  const rows = await database.db
    .select()
    .from(tables.turns)
    .where(
      and(
        eq(tables.turns.conversationId, conversationId),
        after ? or(lt(tables.turns.startedAt, after.at), and(eq(tables.turns.startedAt, after.at), lt(tables.turns.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(tables.turns.startedAt), desc(tables.turns.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    conversation_id: conversationId,
    total_turns: Number(total),
    traces: page.map((t) => ({
      turn_id: t.id,
      status: t.status,
      total_iterations: t.iterations,
      convergence_score: t.convergenceScore,
      exit_reason: t.exitReason,
      created_at: t.startedAt.toISOString(),
    })),
    next_cursor: rows.length > limit && last ? encodeCursor(last.startedAt, last.id) : null,
  };
}

/** `GET /v1/events?after=&limit=` — the caller's tenant's event log in `seq` order (works without Kafka). */
export async function listEvents({ database, caller, after, limit }: { database: Database; caller: Caller; after: number; limit: number }) {
  const rows = await database.db
    .select({ seq: tables.outboxMessages.seq, payload: tables.outboxMessages.payload, status: tables.outboxMessages.status, publishedAt: tables.outboxMessages.publishedAt, attempts: tables.outboxMessages.attempts })
    .from(tables.outboxMessages)
    .where(and(eq(tables.outboxMessages.tenantId, caller.tenantId), gt(tables.outboxMessages.seq, after)))
    .orderBy(asc(tables.outboxMessages.seq))
    .limit(limit);
  const last = rows[rows.length - 1];
  return {
    events: rows.map((r) => ({ seq: r.seq, delivery: { status: r.status, attempts: r.attempts, published_at: r.publishedAt?.toISOString() ?? null }, ...(r.payload as Record<string, unknown>) })),
    next_after: last ? last.seq : after,
  };
}
