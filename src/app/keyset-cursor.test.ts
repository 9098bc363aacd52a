import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, KEYSET_CURSOR_PATTERN } from './keyset-cursor.js';

describe('keyset cursor', () => {
  it('round-trips every position it can write and matches its published pattern', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('5000-01-01T00:00:00Z'), noInvalidDate: true }), fc.uuid(), (at, id) => {
        const cursor = encodeCursor(at, id);
        expect(cursor).toMatch(new RegExp(KEYSET_CURSOR_PATTERN));
        const decoded = decodeCursor(cursor);
        expect(decoded.ok && decoded.value).toEqual({ at, id: id.toLowerCase() });
      }),
    );
  });

  it('refuses the crafted cursors of issue 14 (a base64 pair with a bad id, year −271821)', () => {
    for (const cursor of [
      Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url'),
      '-8640000000000000.00000000-0000-4000-8000-000000000000',
      '100000000000000.00000000-0000-4000-8000-000000000000',
      '1.x',
    ]) {
      const decoded = decodeCursor(cursor);
      expect(decoded.ok).toBe(false);
      expect(!decoded.ok && decoded.error.code).toBe('VALIDATION_FAILED');
    }
  });
});
