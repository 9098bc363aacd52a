import fc from 'fast-check';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';
import o200k_base from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { countTiktokens, type TiktokenEncodingName } from './tiktoken-counter.js';

/** Independent encoders: the reference count is the whole text encoded in one go. */
const reference: Record<TiktokenEncodingName, Tiktoken> = {
  o200k_base: new Tiktoken(o200k_base),
  cl100k_base: new Tiktoken(cl100k_base),
};
const encodings = Object.keys(reference) as TiktokenEncodingName[];
const wholeCount = (text: string, encoding: TiktokenEncodingName) => reference[encoding].encode(text, 'all').length;

/** Pieces that sit on the pre-tokenizer's edges: line breaks next to spaces, `/`, punctuation, contractions, special tokens. */
const atom = fc.constantFrom(
  'a', 'Word', 'xyz', 'IT', '7', '123', '4567', ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\n', '/', '//', '.', '...', "'", "'s", "'LL",
  '<|', '|>', '<|endoftext|>', '<|endofprompt|>', '<|fim_prefix|>', 'é', 'ß', 'Ж', 'ü', '中文', '\u0301', '😀', '👍🏽', '\u00a0', '\u2028', '-', '#', '`',
);
const atoms = (maxLength: number) => fc.array(atom, { maxLength }).map((parts) => parts.join(''));

/** Long multi-line texts like a prompt's memory lane: bullets, indentation, blank lines (some with trailing spaces), CRLF, paths. */
const line = fc.oneof(
  fc.array(fc.constantFrom('the', 'user', 'asked', 'for', '2024-05-01', 'café', "don't", '😀', '/tmp/x', '(ok)', 'v1.2'), { maxLength: 14 }).map((words) => words.join(' ')),
  fc.constantFrom('', ' ', '   ', '\t', '- item', '  - nested item', '/etc/hosts', '// comment', '<|endoftext|>', '...', '```ts', '  '),
  atoms(12),
);
const multiLine = fc
  .tuple(fc.array(line, { minLength: 20, maxLength: 120 }), fc.constantFrom('\n', '\r\n', '\n\n', '\n '))
  .map(([lines, eol]) => lines.join(eol));

describe('countTiktokens', () => {
  it('returns 0 for the empty text', () => {
    expect(countTiktokens('', 'o200k_base')).toBe(0);
  });

  it('counts like encoding the whole text at once, across the cuts it may take', () => {
    const tricky = ['a\n \nb', 'x.\n \n\ny', 'a\n\t\n  b', 'p\n/q', 'p.\n/q', 'a\r\n\rb', 'a\n<|endoftext|>b', 'a\n<|x', 'a\n\u2028\nb', "a\n's", 'a\n  \n'];
    for (const encoding of encodings) {
      for (const piece of tricky) {
        const text = `${piece} `.repeat(80);
        expect(countTiktokens(text, encoding), JSON.stringify(piece)).toBe(wholeCount(text, encoding));
      }
    }
  });

  it('equals encode(text, "all").length for arbitrary texts, short and long, in both encodings', () => {
    for (const encoding of encodings) {
      fc.assert(
        fc.property(fc.oneof(atoms(40), atoms(1200), multiLine), (text) => {
          expect(countTiktokens(text, encoding)).toBe(wholeCount(text, encoding));
        }),
        { numRuns: 300 },
      );
    }
  });

  it('counts a repeated long multi-line text the same way twice, and a one-line change like a fresh count', () => {
    const lines = Array.from({ length: 80 }, (_, i) => `- [turn ${i}] The user asked about café prices in /tmp/report-${i}.md; don't forget 😀`);
    const text = lines.join('\n');
    for (const encoding of encodings) {
      const first = countTiktokens(text, encoding);
      expect(first).toBe(wholeCount(text, encoding));
      expect(countTiktokens(text, encoding)).toBe(first);
      const changed = [...lines.slice(0, 40), '  - an edited line\n \n', ...lines.slice(41)].join('\n');
      expect(countTiktokens(changed, encoding)).toBe(wholeCount(changed, encoding));
    }
  });
});
