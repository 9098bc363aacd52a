import { describe, expect, it } from 'vitest';
import { cleanJson, cleanText, findUnstorableText, hasUnstorableText } from './text-hygiene.js';

describe('text hygiene', () => {
  it('finds NUL and unpaired surrogates, not paired ones', () => {
    expect(hasUnstorableText('a\u0000b')).toBe(true);
    expect(hasUnstorableText('x\uD800y')).toBe(true);
    expect(hasUnstorableText('x\uDC00y')).toBe(true);
    expect(hasUnstorableText('tail \uD83D')).toBe(true);
    expect(hasUnstorableText('emoji 😀 and ü')).toBe(false);
  });

  it('replaces each with U+FFFD and counts them', () => {
    expect(cleanText('a\u0000b\uDC00c😀')).toEqual({ text: 'a\uFFFDb\uFFFDc😀', replaced: 2 });
    const value = { ok: 'fine', list: ['x\u0000'], 'k\u0000': 1 };
    expect(cleanJson(value)).toEqual({ value: { ok: 'fine', list: ['x\uFFFD'], 'k\uFFFD': 1 }, replaced: 2 });
    const clean = { a: ['b'] };
    expect(cleanJson(clean).value).toBe(clean);
  });

  it('names the first field that holds one', () => {
    expect(findUnstorableText({ content: 'ok', tools: [{ name: 'a\u0000' }] })).toBe('tools.0.name');
    expect(findUnstorableText({ a: 1, b: [true, null] })).toBeUndefined();
  });
});
