import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { learningConstants } from './learning-constants.js';
import { recencyOf, scoreMemories, type MemoryCandidate } from './score-memories.js';

const defaults = { alpha: 1, beta: 0.2, gamma: 0.1, tau: 0.7 };
const day = 24 * 3600;
// An old memory very similar to the query, and a fresh one that is barely related.
const similarButOld: MemoryCandidate = { key: 'old-fact', content: 'the office wifi password is heron-42', similarity: 0.9, importance: 0.5, ageSeconds: 60 * day };
const recentButLoose: MemoryCandidate = { key: 'fresh-chat', content: 'we talked about lunch today', similarity: 0.3, importance: 0.5, ageSeconds: 60 };

function weightOf(key: string, scored: ReturnType<typeof scoreMemories>): number {
  return scored.find((memory) => memory.key === key)!.weight;
}

describe('recencyOf', () => {
  it('is 1 for a new memory and halves every half-life (7 days by default)', () => {
    expect(recencyOf({ ageSeconds: 0 })).toBe(1);
    expect(recencyOf({ ageSeconds: learningConstants.recency_half_life_s })).toBeCloseTo(0.5, 12);
    expect(recencyOf({ ageSeconds: 14 * day })).toBeCloseTo(0.25, 12);
    expect(recencyOf({ ageSeconds: 3600, halfLifeSeconds: 3600 })).toBeCloseTo(0.5, 12);
  });
});

describe('scoreMemories', () => {
  it('scores c = α·sim + β·importance + γ·recency and sorts by softmax weight', () => {
    const scored = scoreMemories({ candidates: [recentButLoose, similarButOld], weights: defaults });
    expect(scored.map((memory) => memory.key)).toEqual(['old-fact', 'fresh-chat']);
    const old = scored[0]!;
    expect(old.raw).toBeCloseTo(0.9 + 0.2 * 0.5 + 0.1 * Math.pow(2, -60 / 7), 12);
    expect(scored[0]!.weight + scored[1]!.weight).toBeCloseTo(1, 12);
    const expectedOld = 1 / (1 + Math.exp((scored[1]!.raw - old.raw) / 0.7));
    expect(old.weight).toBeCloseTo(expectedOld, 12);
  });

  it('favours similar memories more as α grows', () => {
    const low = scoreMemories({ candidates: [similarButOld, recentButLoose], weights: { ...defaults, alpha: 0.2, gamma: 1 } });
    const high = scoreMemories({ candidates: [similarButOld, recentButLoose], weights: { ...defaults, alpha: 3, gamma: 1 } });
    expect(low[0]!.key).toBe('fresh-chat');
    expect(high[0]!.key).toBe('old-fact');
    expect(weightOf('old-fact', high)).toBeGreaterThan(weightOf('old-fact', low));
  });

  it('favours recent memories more as γ grows', () => {
    const low = scoreMemories({ candidates: [similarButOld, recentButLoose], weights: { ...defaults, alpha: 0.5, gamma: 0 } });
    const high = scoreMemories({ candidates: [similarButOld, recentButLoose], weights: { ...defaults, alpha: 0.5, gamma: 1 } });
    expect(low[0]!.key).toBe('old-fact');
    expect(high[0]!.key).toBe('fresh-chat');
    expect(weightOf('fresh-chat', high)).toBeGreaterThan(weightOf('fresh-chat', low));
  });

  it('sharpens the weights as τ falls', () => {
    const candidates = [similarButOld, recentButLoose, { key: 'mid', content: 'the guest wifi is open', similarity: 0.6, ageSeconds: 2 * day }];
    const top = (tau: number): number => scoreMemories({ candidates, weights: { ...defaults, tau } })[0]!.weight;
    expect(top(2)).toBeLessThan(top(0.7));
    expect(top(0.7)).toBeLessThan(top(0.2));
    expect(top(0.05)).toBeGreaterThan(0.98);
  });

  it('stays finite and sums to 1 for extreme scores', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.string(),
            content: fc.string(),
            similarity: fc.double({ min: -5, max: 5, noNaN: true }),
            importance: fc.double({ min: 0, max: 1, noNaN: true }),
            ageSeconds: fc.double({ min: 0, max: 1e9, noNaN: true }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        (candidates, tau, alpha) => {
          const scored = scoreMemories({ candidates, weights: { alpha, beta: 1, gamma: 1, tau } });
          const total = scored.reduce((sum, memory) => sum + memory.weight, 0);
          expect(total).toBeCloseTo(1, 9);
          for (let i = 1; i < scored.length; i += 1) expect(scored[i - 1]!.weight).toBeGreaterThanOrEqual(scored[i]!.weight);
          expect(scored.every((memory) => Number.isFinite(memory.weight))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('uses a given recency as is, treats an unknown age as recency 0, and returns nothing for no candidates', () => {
    const scored = scoreMemories({
      candidates: [
        { key: 'a', content: 'x', similarity: 0.5, recency: 0.8, ageSeconds: 1e9 },
        { key: 'b', content: 'y', similarity: 0.5 },
      ],
      weights: defaults,
    });
    expect(scored.find((memory) => memory.key === 'a')!.recency).toBe(0.8);
    expect(scored.find((memory) => memory.key === 'b')!.recency).toBe(0);
    expect(scoreMemories({ candidates: [], weights: defaults })).toEqual([]);
  });
});
