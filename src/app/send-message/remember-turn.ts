import { qualityOf, type LearningConfig } from '../../core/learning/index.js';
import type { BrainScope, KnownCapsule } from '../../ports/brain.js';
import type { AppContext } from '../context.js';
import { withTimeout, type IterationRecord } from '../turn/index.js';

/**
 * Stores the question and answer in the caller's memory (SPEC §3.5, scoped by §13.1) without blocking
 * the answer; failures are only logged. Only answers worth recalling are kept (SPEC §13.2): not a junk
 * draft (empty, cut off, an echo of the prompt), and of quality at least `memory_min_quality` — the
 * answer's real score when the capsule has a scorer, else self-confidence at its reduced weight — which
 * is also the memory's importance.
 */
export function rememberTurn(
  ctx: AppContext,
  scope: BrainScope,
  { turnId, question, best, config, known }: { turnId: string; question: string; best: IterationRecord | undefined; config: LearningConfig; known?: KnownCapsule },
): { remembered: boolean; quality: number | null } {
  if (!best || best.content.trim() === '' || best.metadata.junk) return { remembered: false, quality: null };
  const quality = qualityOf(best.metadata.metrics, config);
  if (quality < config.memory_min_quality) return { remembered: false, quality };
  void withTimeout(
    ctx.brain.remember(scope, { key: `turn:${turnId}`, content: `Q: ${question}\nA: ${best.content}`, importance: quality, tags: ['turn'] }, known),
    ctx.settings.brainTimeoutMs,
    'remember',
  ).catch((cause) => ctx.logger.warn({ err: cause, turn_id: turnId }, 'storing the turn in memory failed'));
  return { remembered: true, quality };
}
