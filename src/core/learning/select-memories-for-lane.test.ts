import { describe, expect, it } from 'vitest';
import type { ScoredMemory } from './score-memories.js';
import { selectMemoriesForLane } from './select-memories-for-lane.js';

function memory(key: string, weight: number, tokens: number): ScoredMemory & { tokens: number } {
  return { key, content: key, similarity: 0, importance: 0, recency: 0, raw: 0, weight, tokens };
}

const planner = { lambda: 1, mu: 0.1, nu: 0.05 };
const tokensOf = (m: { tokens: number }): number => m.tokens;

describe('selectMemoriesForLane', () => {
  it('takes memories in weight order while the utility grows', () => {
    const scored = [memory('a', 0.5, 100), memory('b', 0.3, 100), memory('c', 0.15, 100), memory('d', 0.005, 100)];
    const lane = selectMemoriesForLane({ scored, weights: planner, tokenBudget: 10_000, tokensOf });
    // 'd' adds λ·0.005 = 0.005 but costs μ·100/1024 + ν/10 ≈ 0.0148: U would fall.
    expect(lane.selected.map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect(lane.tokens).toBe(300);
    expect(lane.totalWeight).toBeCloseTo(0.95, 12);
    expect(lane.utility).toBeCloseTo(0.95 - (0.1 * 300) / 1024 - (0.05 * 3) / 10, 12);
  });

  it('never exceeds the token budget, skipping a memory that does not fit', () => {
    const scored = [memory('a', 0.5, 100), memory('big', 0.3, 900), memory('c', 0.15, 100)];
    const lane = selectMemoriesForLane({ scored, weights: planner, tokenBudget: 500, tokensOf });
    expect(lane.selected.map((m) => m.key)).toEqual(['a', 'c']);
    expect(lane.tokens).toBeLessThanOrEqual(500);
    expect(selectMemoriesForLane({ scored, weights: planner, tokenBudget: 50, tokensOf }).selected).toEqual([]);
  });

  it('takes more memories as λ grows and fewer as μ or ν grow', () => {
    const scored = Array.from({ length: 20 }, (_, i) => memory(`m${i}`, 0.5 / 2 ** i, 200));
    const count = (weights: typeof planner): number => selectMemoriesForLane({ scored, weights, tokenBudget: 100_000, tokensOf }).selected.length;
    const baseline = count(planner);
    expect(count({ ...planner, lambda: 5 })).toBeGreaterThan(baseline);
    expect(count({ ...planner, mu: 2 })).toBeLessThan(baseline);
    expect(count({ ...planner, nu: 3 })).toBeLessThan(baseline);
  });
});
