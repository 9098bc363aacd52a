import type { BrainScope } from '../../ports/brain.js';
import type { AppContext } from '../context.js';
import { withTimeout } from '../turn/index.js';

/** Stores the question and answer in the capsule's memory without blocking the answer; failures are only logged. */
export function rememberTurn(ctx: AppContext, scope: BrainScope, turn: { turnId: string; question: string; answer: string; score: number | null }): void {
  if (turn.answer.trim() === '') return;
  void withTimeout(
    ctx.brain.remember(scope, {
      key: `turn:${turn.turnId}`,
      content: `Q: ${turn.question}\nA: ${turn.answer}`,
      importance: turn.score ?? 0.5,
      tags: ['turn'],
    }),
    ctx.settings.brainTimeoutMs,
    'remember',
  ).catch((cause) => ctx.logger.warn({ err: cause, turn_id: turn.turnId }, 'storing the turn in memory failed'));
}
