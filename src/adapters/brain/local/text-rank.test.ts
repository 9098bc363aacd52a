import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, freshDatabase } from '../../../../test/support/databases.js';
import type { Database } from '../../store/index.js';
import { matches, parseFlatQuery, parseTsvector, tsRank } from './text-rank.js';

// Words with stems in common (run/running/runs), stop words, numbers, a hyphenated compound, accents,
// an apostrophe: what memories and questions hold. Repeats give lexemes several positions.
const VOCABULARY = ['garage', 'door', 'code', 'printer', 'toner', 'the', 'a', 'is', 'running', 'runs', 'run', 'cat', 'cats', 'question', 'answer', 'draft', 'off-by-one', '12', '4711', 'note', 'café', 'straße', "o'brien", 'deterministically'];
const word = fc.constantFrom(...VOCABULARY);
const queryWord = fc.constantFrom(...VOCABULARY.map((w) => w.replace(/[^\p{L}\p{N}]/gu, '')).filter((w) => w.length > 0));

describe('parseFlatQuery', () => {
  it('reads the flat queries recall makes and refuses any other shape', () => {
    expect(parseFlatQuery("'garag' & 'door'")).toEqual({ lexemes: ['door', 'garag'], op: 'and' });
    expect(parseFlatQuery("'run' | 'run' | 'cat'")).toEqual({ lexemes: ['cat', 'run'], op: 'or' });
    // Two words with one stem are one lexeme: ranked as PostgreSQL ranks a single lexeme (its "or").
    expect(parseFlatQuery("'run' & 'run'")).toEqual({ lexemes: ['run'], op: 'or' });
    expect(parseFlatQuery('')).toEqual({ lexemes: [], op: 'or' });
    for (const other of ["'a' & !'b'", "( 'a' | 'b' ) & 'c'", "'a' <-> 'b'", "'a':*", "'a':AB", "'a' & 'b' | 'c'"]) expect(parseFlatQuery(other)).toBeUndefined();
  });

  it('reads a tsvector with weights and quoted lexemes', () => {
    const lexemes = parseTsvector("'a':1,3B 'it''s':2A 'stripped'");
    expect(lexemes.get('a')).toEqual([1, 3 | (2 << 14)]);
    expect(lexemes.get("it's")).toBe(2 | (3 << 14));
    expect(lexemes.get('stripped')).toEqual([]);
  });
});

describe.each(drivers())('PostgreSQL full-text match and ts_rank in process, on %s', (driver) => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ database, drop } = await freshDatabase(driver));
  });
  afterAll(async () => {
    await drop();
  });

  it('match and rank as PostgreSQL does, to the bit, for any text and flat query', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 0, maxLength: 60 }), fc.array(queryWord, { minLength: 1, maxLength: 5 }), fc.constantFrom(' & ', ' | '), async (text, query, op) => {
        const content = text.join(' ');
        const [row] = await database.run<{ v: string; q: string; rank: number; hit: boolean }>({
          text: `select to_tsvector('english', $1)::text as v, to_tsquery('english', $2)::text as q,
            ts_rank(to_tsvector('english', $1), to_tsquery('english', $2))::float8 as rank, to_tsvector('english', $1) @@ to_tsquery('english', $2) as hit`,
          values: [content, query.join(op)],
        });
        const parsed = parseFlatQuery(row!.q);
        expect(parsed).toBeDefined();
        const vector = parseTsvector(row!.v);
        expect(matches(vector, parsed!)).toBe(row!.hit);
        expect(tsRank(vector, parsed!)).toBe(Number(row!.rank));
      }),
      { numRuns: 150 },
    );
  });
});
