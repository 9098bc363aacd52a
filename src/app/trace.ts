import type { StoredIteration } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';
import type { Caller, StoreContext } from './context.js';
import { messageView } from './conversations.js';
import { decodeCursor, pageOf } from './keyset-cursor.js';

export function iterationView(iteration: StoredIteration) {
  return {
    id: iteration.id,
    turn_id: iteration.turnId,
    conversation_id: iteration.conversationId,
    iteration_number: iteration.iterationNumber,
    content: iteration.content,
    llm_output: iteration.llmOutput,
    weights_before: iteration.weightsBefore,
    weights_after: iteration.weightsAfter,
    weight_deltas: iteration.weightDeltas,
    neuromodulators_before: iteration.neuromodulatorsBefore,
    neuromodulators_after: iteration.neuromodulatorsAfter,
    model: iteration.model,
    confidence: iteration.confidence,
    latency_ms: iteration.latencyMs,
    tool_calls: iteration.toolCalls,
    tool_results: iteration.toolResults,
    prompt_tokens: iteration.promptTokens,
    completion_tokens: iteration.completionTokens,
    convergence_score: iteration.convergenceScore,
    exit_reason: iteration.exitReason,
    metadata: iteration.metadata,
    started_at: iteration.startedAt.toISOString(),
    completed_at: iteration.completedAt.toISOString(),
    created_at: iteration.createdAt.toISOString(),
  };
}

/** `GET /v1/trace/:turn_id` — every iteration of a turn of the caller's tenant; else TURN_NOT_FOUND. */
export async function getTurnTrace({ store }: Pick<StoreContext, 'store'>, { caller, turnId, includeMessages }: { caller: Caller; turnId: string; includeMessages: boolean }) {
  const turn = await store.turns.findInTenant(caller.tenantId, turnId);
  if (!turn) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const iterations = await store.iterations.listByTurn(turnId);
  const messages = includeMessages ? (await store.messages.listByTurn(turnId)).map(messageView) : undefined;
  return ok({
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
  });
}

interface ConversationTrace {
  conversation_id: string;
  total_turns: number;
  traces: { turn_id: string; status: string; total_iterations: number; convergence_score: number | null; exit_reason: string | null; created_at: string }[];
  next_cursor: string | null;
}

/** `GET /v1/trace/conversation/:id` — turns newest first with a stable keyset cursor. */
export async function getConversationTrace(
  { store }: Pick<StoreContext, 'store'>,
  { caller, conversationId, limit, cursor }: { caller: Caller; conversationId: string; limit: number; cursor?: string },
): Promise<Result<ConversationTrace, Failure>> {
  if (!(await store.conversations.find(caller.tenantId, conversationId))) return refuse('CONVERSATION_NOT_FOUND', `conversation ${conversationId} not found`);
  const after = cursor ? decodeCursor(cursor) : undefined;
  if (after && !after.ok) return after;
  const total = await store.turns.countByConversation(conversationId);
  const rows = await store.turns.listByConversation(conversationId, { limit: limit + 1, ...(after ? { after: after.value } : {}) });
  const { page, nextCursor } = pageOf(rows, limit, (turn) => ({ at: turn.startedAt, id: turn.id }));
  return ok({
    conversation_id: conversationId,
    total_turns: total,
    traces: page.map((t) => ({
      turn_id: t.id,
      status: t.status,
      total_iterations: t.iterations,
      convergence_score: t.convergenceScore,
      exit_reason: t.exitReason,
      created_at: t.startedAt.toISOString(),
    })),
    next_cursor: nextCursor,
  });
}

/** `GET /v1/events?after=&limit=` — the caller's tenant's event log in `seq` order (works without Kafka). */
export async function listEvents({ store }: Pick<StoreContext, 'store'>, { caller, after, limit }: { caller: Caller; after: number; limit: number }) {
  const rows = await store.events.listForTenant(caller.tenantId, { after, limit });
  const last = rows[rows.length - 1];
  return {
    events: rows.map((r) => ({ seq: r.seq, delivery: { status: r.status, attempts: r.attempts, published_at: r.publishedAt?.toISOString() ?? null }, ...r.payload })),
    next_after: last ? last.seq : after,
  };
}
