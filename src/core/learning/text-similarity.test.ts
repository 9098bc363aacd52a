import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textSimilarity } from './text-similarity.js';

describe('textSimilarity', () => {
  it('is 1 for texts equal up to case, accents composed differently and punctuation', () => {
    expect(textSimilarity('The answer is 42.', 'the ANSWER is 42')).toBe(1);
    expect(textSimilarity('café', 'cafe\u0301')).toBe(1);
    expect(textSimilarity('', '  ')).toBe(1);
  });

  it('is 0 for unrelated texts and when one side is empty', () => {
    expect(textSimilarity('zebra', 'quokka')).toBe(0);
    expect(textSimilarity('something', '')).toBe(0);
  });

  it('stays high for a small edit and low for a different answer', () => {
    const draft = 'Paris is the capital of France and has about two million inhabitants.';
    expect(textSimilarity(draft, 'Paris is the capital of France and has roughly two million inhabitants.')).toBeGreaterThan(0.8);
    expect(textSimilarity(draft, 'Bananas grow in tropical climates on large herbaceous plants.')).toBeLessThan(0.3);
  });

  it('is symmetric, within [0, 1] and 1 on identical input', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const ab = textSimilarity(a, b);
        expect(Object.is(ab, textSimilarity(b, a))).toBe(true);
        expect(ab).toBeGreaterThanOrEqual(0);
        expect(ab).toBeLessThanOrEqual(1);
        expect(textSimilarity(a, a)).toBe(1);
      }),
      { numRuns: 500 },
    );
  });
});
