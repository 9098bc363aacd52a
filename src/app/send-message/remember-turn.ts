import { qualityOf, type LearningConfig } from '../../core/learning/index.js';
import type { BrainScope, KnownCapsule, MemoryRecord } from '../../ports/brain.js';
import type { AppContext } from '../context.js';
import { withTimeout, type IterationRecord } from '../turn/index.js';

/** What a turn remembers: its question and answer, when the answer is worth recalling (else `memory` is absent). */
export function turnMemory({ turnId, question, best, config }: { turnId: string; question: string; best: IterationRecord | undefined; config: LearningConfig }): { memory?: MemoryRecord; quality: number | null } {
  if (!best || best.content.trim() === '' || best.metadata.junk) return { quality: null };
  const quality = qualityOf(best.metadata.metrics, config);
  if (quality < config.memory_min_quality) return { quality };
  return { memory: { key: `turn:${turnId}`, content: `Q: ${question}\nA: ${best.content}`, importance: quality, tags: ['turn'] }, quality };
}

/**
 * Stores the question and answer in the caller's memory (SPEC §3.5, scoped by §13.1) without blocking
 * the answer; failures are only logged. Only answers worth recalling are kept (SPEC §13.2): not a junk
 * draft (empty, cut off, an echo of the prompt), and of quality at least `memory_min_quality` — the
 * answer's real score when the capsule has a scorer, else self-confidence at its reduced weight — which
 * is also the memory's importance ({@link turnMemory}). A turn closed with its last iteration has
 * usually remembered in that commit already (the turn sink); this is for the others.
 */
export function rememberTurn(
  ctx: AppContext,
  scope: BrainScope,
  { turnId, question, best, config, known }: { turnId: string; question: string; best: IterationRecord | undefined; config: LearningConfig; known?: KnownCapsule },
): { remembered: boolean; quality: number | null } {
  const { memory, quality } = turnMemory({ turnId, question, best, config });
  if (!memory) return { remembered: false, quality };
  void withTimeout(ctx.brain.remember(scope, memory, known), ctx.settings.brainTimeoutMs, 'remember').catch((cause) => ctx.logger.warn({ err: cause, turn_id: turnId }, 'storing the turn in memory failed'));
  return { remembered: true, quality };
}
