import type { ExitReason } from '../../core/turn/index.js';
import type { AppContext } from '../context.js';
import { closingDraftOf, finishTurn } from './finish-turn.js';

/**
 * Ids of a turn that another process takes over after a crash start this far above its last stored
 * event: past anything the dead process may have streamed without storing (an iteration's events
 * are stored with it, and no iteration streams a million events), so a client reattaching with the
 * last id it saw gets exactly the new events.
 */
export const TAKEOVER_ID_GAP = 1_000_000;

/** How many crashed turns one sweep closes at most. */
const SWEEP_BATCH = 100;

/**
 * Closes turns left `running` by a process that died (SPEC §13.4): each gets its best committed draft
 * as the assistant message (`metadata.partial`), `interrupted` on the turn and its last iteration, and
 * `chat.turn_complete` — or, when its last committed iteration had already ended the loop
 * (converged…), is completed with that exit. Its stream gets `error` then `turn.completed`.
 * `olderThanMs` protects turns other live processes are still running. Returns how many it closed.
 */
export async function recoverInterruptedTurns(ctx: Pick<AppContext, 'store' | 'clock' | 'ids' | 'metrics'>, { olderThanMs }: { olderThanMs: number }): Promise<number> {
  const stale = await ctx.store.turns.listStale(new Date(ctx.clock.now() - olderThanMs), SWEEP_BATCH);
  let closed = 0;
  for (const turnId of stale) if (await closeCrashedTurn(ctx, turnId)) closed++;
  return closed;
}

async function closeCrashedTurn(ctx: Pick<AppContext, 'store' | 'clock' | 'ids' | 'metrics'>, turnId: string): Promise<boolean> {
  const turn = await ctx.store.turns.find(turnId);
  if (!turn || turn.status !== 'running') return false;
  const [rows, lastId] = await Promise.all([ctx.store.iterations.listByTurn(turnId), ctx.store.streamEvents.lastId(turnId)]);
  const last = rows.at(-1);
  const finished = last && last.exitReason !== 'continue' ? (last.exitReason as ExitReason) : undefined;
  const exitReason: ExitReason = finished ?? 'interrupted';
  const error = finished ? undefined : { code: 'INTERRUPTED', message: 'the process running this turn stopped; it is closed with its best committed draft', iteration: rows.length };
  const firstId = lastId + 1 + TAKEOVER_ID_GAP;
  const completion = await finishTurn(
    ctx,
    {
      owner: { turnId, conversationId: turn.conversationId, tenantId: turn.tenantId, capsuleId: turn.capsuleId },
      model: (turn.settings as { model?: string }).model ?? last?.model ?? '',
      startedAtMs: turn.startedAt.getTime(),
      exitReason,
      ...(error ? { error } : {}),
      iterations: rows.map(closingDraftOf),
      toolsUsed: [...new Set(rows.flatMap((r) => r.toolResults.filter((o) => o.outcome !== 'awaiting_approval').map((o) => o.name)))],
      resumes: turn.resumes,
    },
    (done) => {
      const events: [string, unknown][] = [...(error ? [['error', { code: error.code, message: error.message }] as [string, unknown]] : []), ['turn.completed', done]];
      return { first: firstId, last: firstId + events.length - 1, events };
    },
  );
  // The dead process never counted a last iteration that went on (its count waits for the next one).
  if (completion && last && !finished) ctx.metrics.iteration(exitReason, last.convergenceScore);
  return completion !== undefined;
}
