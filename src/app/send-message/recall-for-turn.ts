import type { BrainScope, KnownCapsule } from '../../ports/brain.js';
import type { Weights } from '../../ports/learning.js';
import type { AppContext } from '../context.js';
import { withTimeout, type RecalledForTurn } from '../turn/index.js';

/** How many memories a turn recalls: the candidates its memory lane chooses from (SPEC §5 maths in the context builder). */
export const RECALL_TOP_K = 16;

/**
 * The memories of the turn, scored with the weights its exploration draw gives (`weights`), with the
 * features the lane needs. A failing or slow brain is not an error: it is marked unhealthy and the
 * memory lane is empty for this turn.
 */
export async function recallForTurn(ctx: AppContext, scope: BrainScope, { query, weights, known }: { query: string; weights: Weights; known?: KnownCapsule }): Promise<RecalledForTurn[]> {
  try {
    const recalled = await withTimeout(ctx.brain.recall(scope, { query, top_k: RECALL_TOP_K, weights }, known), ctx.settings.brainTimeoutMs, 'memory recall');
    ctx.health.report('brain', true);
    return recalled.map((m) => ({
      key: m.key,
      content: m.content,
      score: m.score,
      ...(m.similarity !== undefined ? { similarity: m.similarity } : {}),
      ...(m.importance !== undefined ? { importance: m.importance } : {}),
      ...(m.recency !== undefined ? { recency: m.recency } : {}),
    }));
  } catch (cause) {
    ctx.health.report('brain', false);
    ctx.logger.warn({ err: cause }, 'memory recall failed; the memory lane is empty for this turn');
    return [];
  }
}
