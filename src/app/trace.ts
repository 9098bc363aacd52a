import type { StoredIteration } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';
import type { Caller, StoreContext } from './context.js';
import { loadConversation, messageView } from './conversations.js';
import { decodeCursor, pageOf } from './keyset-cursor.js';

/**
 * An iteration as the API shows it. `memories`: those of the turn (stored with its first iteration
 * only, see IterationMetadata) when the iteration's own metadata has none.
 */
export function iterationView(iteration: StoredIteration, memories?: unknown) {
  const metadata = iteration.metadata as Record<string, unknown>;
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
    metadata: metadata.memories === undefined && memories !== undefined ? { ...metadata, memories } : metadata,
    started_at: iteration.startedAt.toISOString(),
    completed_at: iteration.completedAt.toISOString(),
    created_at: iteration.createdAt.toISOString(),
  };
}

/**
 * `GET /v1/trace/:turn_id` — every iteration of a turn of a conversation the caller takes part in
 * (any role, SPEC §13.1); another tenant's turn or a conversation the caller is not in is TURN_NOT_FOUND.
 */
export async function getTurnTrace({ store }: Pick<StoreContext, 'store'>, { caller, turnId, includeMessages }: { caller: Caller; turnId: string; includeMessages: boolean }) {
  const turn = await store.turns.findInTenant(caller.tenantId, turnId);
  if (!turn || !(await loadConversation(store, caller, turn.conversationId)).ok) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const iterations = await store.iterations.listByTurn(turnId);
  const messages = includeMessages ? (await store.messages.listByTurn(turnId)).map(messageView) : undefined;
  // The turn's memories, stored with its first iteration (see IterationMetadata).
  const memories = (iterations[0]?.metadata as { memories?: unknown } | undefined)?.memories;
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
    iterations: iterations.map((iteration) => iterationView(iteration, memories)),
    ...(messages ? { messages } : {}),
  });
}

interface ConversationTrace {
  conversation_id: string;
  total_turns: number;
  traces: { turn_id: string; status: string; total_iterations: number; convergence_score: number | null; exit_reason: string | null; created_at: string }[];
  next_cursor: string | null;
}

/** `GET /v1/trace/conversation/:id` — turns newest first with a stable keyset cursor; participants only (else CONVERSATION_NOT_FOUND). */
export async function getConversationTrace(
  { store }: Pick<StoreContext, 'store'>,
  { caller, conversationId, limit, cursor }: { caller: Caller; conversationId: string; limit: number; cursor?: string },
): Promise<Result<ConversationTrace, Failure>> {
  const found = await loadConversation(store, caller, conversationId);
  if (!found.ok) return found;
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

/**
 * `GET /v1/events?after=&limit=` — the caller's tenant's event log in `seq` order (works without Kafka).
 * An admin key reads every event of the tenant; any other key the events of the conversations its
 * user takes part in, and the events tied to no conversation (`capsule.*`, `learning.*` of rollback
 * and reset: about capsules, which every key of the tenant may read anyway) — SPEC §13.1.
 */
export async function listEvents({ store }: Pick<StoreContext, 'store'>, { caller, after, limit }: { caller: Caller; after: number; limit: number }) {
  const rows = await store.events.listForTenant(caller.tenantId, { after, limit, ...(caller.admin ? {} : { readableBy: caller.userId }) });
  const last = rows[rows.length - 1];
  return {
    events: rows.map((r) => ({ seq: r.seq, delivery: { status: r.status, attempts: r.attempts, published_at: r.publishedAt?.toISOString() ?? null }, ...r.payload })),
    next_after: last ? last.seq : after,
  };
}
