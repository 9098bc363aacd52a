import type { Weights } from '../../ports/learning.js';
import type { ScoredMemory } from './score-memories.js';

/** What the memory lane takes. */
export interface LaneSelection<M extends ScoredMemory = ScoredMemory> {
  /** The memories taken, in weight order. */
  selected: M[];
  /** U = λ·Σw − μ·tokens/1024 − ν·n/10 of the selection (0 when nothing is taken). */
  utility: number;
  /** Tokens of the selected memories. */
  tokens: number;
  /** Σw of the selected memories. */
  totalWeight: number;
}

/**
 * SPEC §5 planner: walk the memories in weight order and take each one while the planner utility
 * `U = λ·Σw − μ·prompt_tokens/1024 − ν·n_memories/10` strictly grows; stop at the first memory that
 * would not raise U. A memory whose tokens would overflow the lane's budget is skipped (a smaller
 * one after it may still fit). `prompt_tokens` are the tokens the selected memories add to the prompt.
 */
export function selectMemoriesForLane<M extends ScoredMemory>({
  scored,
  weights,
  tokenBudget,
  tokensOf,
}: {
  /** Memories from `scoreMemories` (taken in the given order, which is weight order). */
  scored: readonly M[];
  weights: Pick<Weights, 'lambda' | 'mu' | 'nu'>;
  /** Tokens the memory lane may fill. */
  tokenBudget: number;
  /** Token count of one memory as it will appear in the prompt. */
  tokensOf: (memory: M) => number;
}): LaneSelection<M> {
  const selected: M[] = [];
  let utility = 0;
  let tokens = 0;
  let totalWeight = 0;
  for (const memory of scored) {
    const memoryTokens = Math.max(0, tokensOf(memory));
    if (tokens + memoryTokens > tokenBudget) continue;
    const nextWeight = totalWeight + memory.weight;
    const nextTokens = tokens + memoryTokens;
    const nextUtility = weights.lambda * nextWeight - (weights.mu * nextTokens) / 1024 - (weights.nu * (selected.length + 1)) / 10;
    if (!(nextUtility > utility)) break;
    selected.push(memory);
    utility = nextUtility;
    tokens = nextTokens;
    totalWeight = nextWeight;
  }
  return { selected, utility, tokens, totalWeight };
}
