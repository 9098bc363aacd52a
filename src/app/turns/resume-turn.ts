import { SomaError, type Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { recordEvent } from '../events.js';
import { continueTurn } from '../send-message/index.js';
import { loadTurnFor } from './turn-access.js';

/**
 * `POST /v1/turns/:turn_id/resume` (SPEC §13.4): a turn that was closed before it finished (its
 * process died, the database went away, the client left, the server drained) goes on from its last
 * committed iteration, with the learned state that held there, in this process and in the
 * background. Its earlier partial answer is replaced when it closes again. Only `interrupted` and
 * `failed` turns can resume; the reopening is one conditional write, so only one resume wins.
 */
export async function resumeTurn(ctx: AppContext, { caller, turnId }: { caller: Caller; turnId: string }): Promise<Result<{ turn_id: string; status: 'running'; from_iteration: number }, Failure>> {
  const found = await loadTurnFor(ctx.store, caller, turnId, { forSend: true });
  if (!found.ok) return found;
  const status = found.value.status;
  if (status === 'completed') return refuse('CONFLICT', `turn ${turnId} completed; there is nothing to resume`);
  if (status === 'running' || status === 'awaiting_approval') return refuse('CONFLICT', `turn ${turnId} is ${status === 'running' ? 'still running' : 'waiting for an approval'}`);
  if (ctx.live.draining) throw new SomaError('NOT_READY', 'this server is shutting down; resume the turn on another server', { retryable: true });
  const reopened = await ctx.store.transaction(async (tx) => {
    const turn = await tx.turns.reopen(turnId, new Date(ctx.clock.now()));
    if (!turn) return undefined;
    await tx.iterations.restoreLastExit(turnId);
    const iterations = (await tx.iterations.listByTurn(turnId)).length;
    await recordEvent(tx, ctx, {
      eventType: 'chat.turn_resumed',
      tenantId: turn.tenantId,
      turnId,
      capsuleId: turn.capsuleId,
      run: turn.resumes,
      payload: { conversation_id: turn.conversationId, from_iteration: iterations, resumes: turn.resumes, by: caller.userId },
    });
    return { turn, iterations };
  });
  if (!reopened) return refuse('CONFLICT', `turn ${turnId} was resumed by another request`);
  void continueTurn(ctx, reopened.turn, { afterPause: false }).catch((err) => ctx.logger.error({ err, turn_id: turnId }, 'the resumed turn failed'));
  return ok({ turn_id: turnId, status: 'running', from_iteration: reopened.iterations });
}
