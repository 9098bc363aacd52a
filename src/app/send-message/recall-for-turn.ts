import type { BrainScope } from '../../ports/brain.js';
import type { AppContext } from '../context.js';
import { withTimeout, type RecalledForTurn } from '../turn/index.js';

/** How many memories a turn recalls for its memory lane. */
const RECALL_TOP_K = 8;

/**
 * The memories of the turn (scored with the weights its exploration draw gives, `seed`). A failing or
 * slow brain is not an error: it is marked unhealthy and the memory lane is empty for this turn.
 */
export async function recallForTurn(ctx: AppContext, scope: BrainScope, { query, seed }: { query: string; seed: number }): Promise<RecalledForTurn[]> {
  try {
    const recalled = await withTimeout(ctx.brain.recall(scope, { query, top_k: RECALL_TOP_K, seed }), ctx.settings.brainTimeoutMs, 'memory recall');
    ctx.health.report('brain', true);
    return recalled.map((m) => ({ key: m.key, content: m.content, score: m.score }));
  } catch (cause) {
    ctx.health.report('brain', false);
    ctx.logger.warn({ err: cause }, 'memory recall failed; the memory lane is empty for this turn');
    return [];
  }
}
