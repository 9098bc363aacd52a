import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capResultSize } from './cap-result-size.js';

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe('capResultSize', () => {
  it('returns a result that fits unchanged', () => {
    const value = { status: 200, body: 'hello' };
    expect(capResultSize(value, 1024)).toEqual({ value, truncated: false, originalBytes: byteLength(value) });
  });

  it('truncates a large result to at most N bytes with a marker naming the original size', () => {
    const value = { body: 'x'.repeat(10_000) };
    const capped = capResultSize(value, 500);
    expect(capped.truncated).toBe(true);
    expect(typeof capped.value).toBe('string');
    expect(byteLength(capped.value)).toBeLessThanOrEqual(500);
    expect(capped.value as string).toMatch(/^\{"body":"xxx/);
    expect(capped.value as string).toContain(`[truncated: result was ${byteLength(value)} bytes]`);
  });

  it('never splits a multi-byte character and counts escapes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 50, maxLength: 400 }), fc.integer({ min: 80, max: 200 }), (text, max) => {
        const value = { text: `"\\${text}` };
        const capped = capResultSize(value, max);
        expect(byteLength(capped.value)).toBeLessThanOrEqual(max);
        // A cut through a multi-byte character would decode to U+FFFD: the kept head must be a prefix of the original JSON text.
        if (capped.truncated) {
          const kept = capped.value as string;
          expect(JSON.stringify(value).startsWith(kept.slice(0, kept.lastIndexOf('…[truncated:')))).toBe(true);
        }
      }),
    );
  });

  it('refuses a cap too small for the marker', () => {
    expect(() => capResultSize('y'.repeat(100), 10)).toThrow(RangeError);
  });
});
