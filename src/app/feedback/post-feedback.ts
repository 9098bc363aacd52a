import type { Weights } from '../../ports/learning.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { loadConversation } from '../conversations.js';
import { recordEvent } from '../events.js';
import type { IterationMetadata } from '../turn/index.js';

/** What `POST /v1/turns/:turn_id/feedback` answers. */
export interface FeedbackView {
  turn_id: string;
  user_id: string;
  score: number;
  comment: string | null;
  /** The turn's feedback revision this post took (unchanged when the score was the same). */
  revision: number;
  /** The sum of every user's latest score on the turn. */
  total: number;
  /** Whether this post changed the score (re-posting the same score changes nothing). */
  changed: boolean;
  /** The learning step: `applied` (with its history row), `unchanged`, or `skipped` when the brain was unavailable. */
  learning: { status: 'applied' | 'unchanged' | 'skipped'; seq?: number; weights?: Weights };
}

/**
 * `POST /v1/turns/:turn_id/feedback {score, comment?}` (SPEC §13.2): a participant's score of a turn's
 * answer, in [−1, 1]. The latest score per (turn, user) wins; it is stored (`turn_feedback`) with
 * `chat.feedback_received` in one transaction, then applied as one learning step (`source: feedback`,
 * `iteration_number` = the turn's feedback revision) crediting the turn's exploration draw with the
 * change of the turn's feedback total. Re-posting the same score changes nothing. A turn the caller
 * cannot see is TURN_NOT_FOUND; an observer is FORBIDDEN. A brain that is down leaves the feedback
 * stored and the step `skipped`; the turn's next feedback credits the whole total.
 */
export async function postFeedback(
  ctx: Pick<AppContext, 'store' | 'brain' | 'ids' | 'clock' | 'logger'>,
  { caller, turnId, score, comment }: { caller: Caller; turnId: string; score: number; comment?: string },
): Promise<Result<FeedbackView, Failure>> {
  if (!Number.isFinite(score) || score < -1 || score > 1) return refuse('VALIDATION_FAILED', 'score must be a number from -1 to 1');
  const turn = await ctx.store.turns.findInTenant(caller.tenantId, turnId);
  if (!turn) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const conversation = await loadConversation(ctx.store, caller, turn.conversationId, { forSend: true });
  if (!conversation.ok) return conversation.error.code === 'FORBIDDEN' ? refuse('FORBIDDEN', 'observers cannot give feedback in this conversation') : refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);

  const at = new Date(ctx.clock.now());
  const saved = await withRetry(() =>
    ctx.store.transaction(async (tx) => {
      const existing = await tx.feedback.find(turnId, caller.userId);
      if (existing && existing.score === score) {
        if (comment !== undefined && comment !== existing.comment) await tx.feedback.updateComment(turnId, caller.userId, comment, at);
        return { changed: false, revision: existing.revision, comment: comment ?? existing.comment, total: await tx.feedback.total(turnId) };
      }
      const keptComment = comment ?? existing?.comment ?? null;
      const revision = await tx.feedback.save({ turnId, userId: caller.userId, tenantId: caller.tenantId, capsuleId: turn.capsuleId, conversationId: turn.conversationId, score, comment: keptComment, at });
      const total = await tx.feedback.total(turnId);
      await recordEvent(tx, ctx, {
        eventType: 'chat.feedback_received',
        tenantId: caller.tenantId,
        capsuleId: turn.capsuleId,
        subject: `${turnId}:${revision}`,
        occurredAt: at,
        payload: { turn_id: turnId, conversation_id: turn.conversationId, user_id: caller.userId, score, previous_score: existing?.score ?? null, total, revision, comment: keptComment },
      });
      return { changed: true, revision, comment: keptComment, total };
    }),
  );
  const view = { turn_id: turnId, user_id: caller.userId, score, comment: saved.comment, revision: saved.revision, total: saved.total, changed: saved.changed };
  if (!saved.changed) return ok({ ...view, learning: { status: 'unchanged' } });

  const [first] = await ctx.store.iterations.listByTurn(turnId);
  const laneSensitive = (first?.metadata as IterationMetadata | undefined)?.lane_sensitive as (keyof Weights)[] | undefined;
  try {
    const step = await ctx.brain.publishTurnMetrics({
      capsule_id: turn.capsuleId,
      tenant: caller.tenantId,
      turn_id: turnId,
      iteration_number: saved.revision,
      source: 'feedback',
      feedback_total: saved.total,
      seed: turn.seed,
      ...(laneSensitive !== undefined ? { lane_sensitive: laneSensitive } : {}),
      tools_used: [],
      confidence: null,
      convergence_score: 0,
      tool_success_rate: 1,
      latency_ms: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      novelty: 0,
    });
    return ok({ ...view, learning: { status: 'applied', ...(step.seq !== undefined ? { seq: step.seq } : {}), weights: step.weights } });
  } catch (cause) {
    ctx.logger.warn({ err: cause, turn_id: turnId }, 'the feedback is stored but its learning step failed');
    return ok({ ...view, learning: { status: 'skipped' } });
  }
}

/** Runs `work` again (twice at most) when it fails, e.g. two posts that raced for the same revision. */
async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
