import type { ExitReason } from '../../core/turn/index.js';
import type { TurnStatus } from '../../ports/store.js';
import type { AppContext } from '../context.js';
import { recordEvent } from '../events.js';
import type { TurnLoopResult } from '../turn/index.js';
import type { IterationOwner } from './save-iteration.js';
import type { TurnCompleted } from './turn-events.js';

/** Status of a turn row from its exit reason. */
function statusOf(exit: ExitReason): TurnStatus {
  if (exit === 'error') return 'failed';
  if (exit === 'cancelled') return 'interrupted';
  return 'completed';
}

/**
 * Closes a turn: its best draft becomes the assistant message, the turn row gets its exit reason and
 * `chat.turn_complete` is written, all in one transaction. Runs however the loop ended.
 */
export async function finishTurn(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'metrics'>,
  owner: IterationOwner,
  { model, startedAtMs, result }: { model: string; startedAtMs: number; result: TurnLoopResult },
): Promise<TurnCompleted> {
  const { turnId, conversationId, tenantId, capsuleId } = owner;
  const best = result.best;
  const content = best?.content ?? '';
  const messageId = ctx.ids.uuid();
  const completedAt = new Date(ctx.clock.now());
  const latencyMs = Math.max(0, completedAt.getTime() - startedAtMs);
  const completion: TurnCompleted = {
    turn_id: turnId,
    message_id: messageId,
    content,
    iterations: result.iterations.length,
    exit_reason: result.exitReason,
    convergence_score: best?.convergenceScore ?? null,
    tools_used: result.toolsUsed,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.messages.insert({
      id: messageId,
      conversationId,
      turnId,
      role: 'assistant',
      content,
      tokenCount: best?.completionTokens ?? 0,
      model: best?.model ?? model,
      latencyMs,
      metadata: {
        exit_reason: result.exitReason,
        iterations: result.iterations.length,
        best_iteration: best?.iteration ?? null,
        convergence_score: best?.convergenceScore ?? null,
        tools_used: result.toolsUsed,
        ...(result.error ? { error: result.error } : {}),
      },
      createdAt: completedAt,
    });
    await tx.turns.finish(turnId, {
      status: statusOf(result.exitReason),
      exitReason: result.exitReason,
      iterations: result.iterations.length,
      convergenceScore: best?.convergenceScore ?? null,
      error: result.error ?? null,
      completedAt,
    });
    await tx.conversations.countMessages(conversationId, 1);
    await recordEvent(tx, ctx, {
      eventType: 'chat.turn_complete',
      tenantId,
      turnId,
      capsuleId,
      occurredAt: completedAt,
      payload: { ...completion, conversation_id: conversationId, latency_ms: latencyMs, ...(result.error ? { error: result.error } : {}) },
    });
  });
  ctx.metrics.turn(result.exitReason, result.iterations.length, latencyMs / 1000);
  return completion;
}
