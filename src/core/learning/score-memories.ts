import type { Weights } from '../../ports/learning.js';
import { learningConstants } from './learning-constants.js';

/** A memory offered to recall. Give either `ageSeconds` or `recency`. */
export interface MemoryCandidate {
  key: string;
  content: string;
  /** Similarity to the query, in [0, 1] (e.g. `textSimilarity`). */
  similarity: number;
  /** Stored importance in [0, 1]; 0.5 when absent. */
  importance?: number;
  /** Seconds since the memory was stored (or last recalled); turned into recency with the half-life. */
  ageSeconds?: number;
  /** Recency in [0, 1], used as is when given (wins over `ageSeconds`). */
  recency?: number;
}

/** A candidate with its recall score. */
export interface ScoredMemory extends MemoryCandidate {
  importance: number;
  recency: number;
  /** c = α·similarity + β·importance + γ·recency. */
  raw: number;
  /** softmax(c / τ) over all candidates; the weights sum to 1. */
  weight: number;
}

/** Recency of a memory `ageSeconds` old: 2^(−age / half-life), so 1 when new and 0.5 after one half-life. */
export function recencyOf({ ageSeconds, halfLifeSeconds = learningConstants.recency_half_life_s }: { ageSeconds: number; halfLifeSeconds?: number }): number {
  return Math.pow(2, -Math.max(0, ageSeconds) / halfLifeSeconds);
}

/**
 * SPEC §5 recall maths: each candidate's `c = α·sim + β·importance + γ·recency`, weighted by
 * `softmax(c / τ)` (numerically stable: the largest c/τ is subtracted before exponentiating).
 * Returns the candidates sorted by weight, highest first; ties keep the input order.
 * Inputs are clamped: similarity, importance and recency to [0, 1]; a missing age or recency means
 * recency 0 (unknown age gets no recency bonus).
 */
export function scoreMemories({
  candidates,
  weights,
  halfLifeSeconds = learningConstants.recency_half_life_s,
}: {
  candidates: readonly MemoryCandidate[];
  weights: Pick<Weights, 'alpha' | 'beta' | 'gamma' | 'tau'>;
  halfLifeSeconds?: number;
}): ScoredMemory[] {
  if (candidates.length === 0) return [];
  const scored = candidates.map((candidate) => {
    const similarity = unit(candidate.similarity);
    const importance = unit(candidate.importance ?? 0.5);
    const recency =
      candidate.recency !== undefined
        ? unit(candidate.recency)
        : candidate.ageSeconds !== undefined
          ? recencyOf({ ageSeconds: candidate.ageSeconds, halfLifeSeconds })
          : 0;
    const raw = weights.alpha * similarity + weights.beta * importance + weights.gamma * recency;
    return { ...candidate, similarity, importance, recency, raw, weight: 0 };
  });
  let maxLogit = -Infinity;
  for (const memory of scored) maxLogit = Math.max(maxLogit, memory.raw / weights.tau);
  let total = 0;
  const exps = scored.map((memory) => {
    const e = Math.exp(memory.raw / weights.tau - maxLogit);
    total += e;
    return e;
  });
  scored.forEach((memory, i) => {
    memory.weight = exps[i]! / total;
  });
  return scored
    .map((memory, index) => ({ memory, index }))
    .sort((x, y) => y.memory.weight - x.memory.weight || x.index - y.index)
    .map(({ memory }) => memory);
}

function unit(value: number): number {
  return Number.isFinite(value) ? (value < 0 ? 0 : value > 1 ? 1 : value) : 0;
}
