import { describe, expect, it } from 'vitest';
import { memoized } from './bounded-memo.js';

describe('memoized', () => {
  it('makes a key’s value once, and empties a full cache before it keeps a new key', () => {
    const cache = new Map<string, number>();
    let made = 0;
    const make = (key: string) => (made++, key.length);
    expect(memoized(cache, 'ab', 2, make)).toBe(2);
    expect(memoized(cache, 'ab', 2, make)).toBe(2);
    expect(made).toBe(1);
    memoized(cache, 'abc', 2, make);
    expect([...cache.keys()]).toEqual(['ab', 'abc']);
    expect(memoized(cache, 'abcd', 2, make)).toBe(4);
    expect([...cache.keys()]).toEqual(['abcd']);
    expect(made).toBe(3);
  });
});
