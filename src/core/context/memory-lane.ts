import { scoreMemories, selectMemoriesForLane, type ScoredMemory } from '../learning/index.js';
import { memoized } from '../../shared/bounded-memo.js';
import type { Weights } from '../../ports/learning.js';

/** A recalled memory offered to the memory lane, with the features recall measured. */
export interface LaneCandidate {
  key: string;
  content: string;
  /** Similarity to the query in [0, 1]. */
  similarity?: number;
  /** Stored importance in [0, 1] (0.5 when absent). */
  importance?: number;
  /** Recency in [0, 1] at recall time (0 when absent). */
  recency?: number;
}

/** The memory lane of a prompt and the planner figures behind it. */
export interface MemoryLane {
  /** The memories taken, in weight order, with their scores. */
  selected: ScoredMemory[];
  /** U = λ·Σw − μ·tokens/1024 − ν·n/10 of the selection. */
  utility: number;
  /** Σw of the selection (the softmax runs over every candidate). */
  totalWeight: number;
  /** Tokens the selection adds to the prompt. */
  tokens: number;
}

/** How a memory appears in the prompt (its tokens are what μ pays for). */
export const memoryLine = (memory: { content: string }): string => `- ${memory.content}`;

/**
 * The memory lane of SPEC §5 / §13.2 — the one function the context builder and the benchmarks use:
 * `c = α·sim + β·importance + γ·recency` for every candidate, `softmax(c/τ)` over them, then the planner
 * walks them by weight and takes each while `U = λ·Σw − μ·tokens/1024 − ν·n/10` grows (within the lane's
 * token budget). So all seven weights act: α β γ order the candidates, τ sets how the weight mass is
 * shared out (a flat softmax gives each memory too little weight to pay for itself), λ μ ν decide how
 * many are worth their tokens.
 */
export function selectMemoryLane({
  candidates,
  weights,
  tokenBudget,
  countTokens,
  lineTokens,
}: {
  candidates: readonly LaneCandidate[];
  weights: Weights;
  tokenBudget: number;
  countTokens: (text: string) => number;
  /** Tokens of each memory's line by its content, filled as they are counted (a turn's lanes share it). */
  lineTokens?: Map<string, number>;
}): MemoryLane {
  if (candidates.length === 0 || tokenBudget <= 0) return { selected: [], utility: 0, totalWeight: 0, tokens: 0 };
  const scored = scoreMemories({
    candidates: candidates.map((memory) => ({
      key: memory.key,
      content: memory.content,
      similarity: memory.similarity ?? 0,
      importance: memory.importance ?? 0.5,
      recency: memory.recency ?? 0,
    })),
    weights,
  });
  const lines = lineTokens ?? new Map<string, number>();
  const tokensOf = (memory: { content: string }) => memoized(lines, memory.content, Infinity, () => countTokens(memoryLine(memory)));
  const lane = selectMemoriesForLane({ scored, weights, tokenBudget, tokensOf });
  return { selected: lane.selected, utility: lane.utility, totalWeight: lane.totalWeight, tokens: lane.tokens };
}

/**
 * The memory lane of one turn's candidates within one budget, for any weights: each weights' lane
 * ({@link selectMemoryLane}) worked out once, each memory's line counted once — a turn asks for the
 * lane of its weights on every iteration and for each explored weight flipped, from the same memories.
 */
export function lanePlanner({ candidates, tokenBudget, countTokens }: { candidates: readonly LaneCandidate[]; tokenBudget: number; countTokens: (text: string) => number }): (weights: Weights) => MemoryLane {
  const lineTokens = new Map<string, number>();
  const lanes = new Map<Weights, MemoryLane>();
  return (weights) => {
    let lane = lanes.get(weights);
    if (!lane) lanes.set(weights, (lane = selectMemoryLane({ candidates, weights, tokenBudget, countTokens, lineTokens })));
    return lane;
  };
}

/**
 * Which explored weights mattered to a turn's lane: p is sensitive when the lane with p's exploration
 * sign flipped (`flipped[p]`, the turn's weights with only p moved to its other side) holds other
 * memories or another order. A weight that is not sensitive could not have changed the prompt, so the
 * turn's reward says nothing about its sign.
 */
export function laneSensitiveWeights({
  laneOf,
  weights,
  flipped,
}: {
  /** The lane of the turn's memories for given weights ({@link lanePlanner}). */
  laneOf: (weights: Weights) => MemoryLane;
  weights: Weights;
  flipped: Partial<Record<keyof Weights, Weights>>;
}): (keyof Weights)[] {
  const keysOf = (w: Weights) => laneOf(w).selected.map((memory) => memory.key).join('\u0000');
  const lane = keysOf(weights);
  return (Object.keys(flipped) as (keyof Weights)[]).filter((name) => keysOf(flipped[name]!) !== lane);
}
