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

/** The coefficient as the module defines it, on plain sets of 3-gram strings. */
function reference(a: string, b: string): number {
  const normalise = (text: string) => text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  const grams = (text: string) => {
    const chars = Array.from(` ${text} `);
    const set = new Set<string>();
    for (let i = 0; i + 3 <= chars.length; i += 1) set.add(chars[i]! + chars[i + 1]! + chars[i + 2]!);
    return set;
  };
  const [left, right] = [normalise(a), normalise(b)];
  if (left === right) return 1;
  if (left.length === 0 || right.length === 0) return 0;
  const [x, y] = [grams(left), grams(right)];
  let shared = 0;
  for (const gram of x) if (y.has(gram)) shared += 1;
  return (2 * shared) / (x.size + y.size);
}

describe('textSimilarity against the plain-set definition', () => {
  it('gives exactly the same value on any texts, repeated 3-grams and non-BMP characters included', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a', 'b', ' ', 'é', '😀', 'ß', '1') }), fc.lorem({ maxCount: 20 }));
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(textSimilarity(a, b)).toBe(reference(a, b));
      }),
      { numRuns: 2000 },
    );
  });
});
