/**
 * PostgreSQL's full-text match (`@@`) and `ts_rank` (default weights {0.1, 0.2, 0.4, 1.0}, no
 * normalisation) in process, over the texts PostgreSQL gives for a `tsvector` and a flat `tsquery`
 * (`'a' & 'b'`, `'a' | 'b'`, `'a'`): so a process can rank the recall window it keeps
 * ({@link ../recall-window.ts}) as the statement did. Computed in float4 as `tsrank.c` does (its
 * `calc_rank_or` / `calc_rank_and`, PostgreSQL 15), so a rank is the very float PostgreSQL returns —
 * checked against PostgreSQL's own over generated texts (text-rank.test.ts).
 */

/** A tsvector's lexemes: each one's positions, as `position | weight << 14` (weight D 0 … A 3). */
export type Lexemes = Map<string, number | number[]>;

/** A flat tsquery: its distinct lexemes in PostgreSQL's order (bytewise), and its operator. */
export interface FlatQuery {
  lexemes: string[];
  /** `and` for `'a' & 'b'` (every lexeme), `or` for `'a' | 'b'` and a single (distinct) lexeme. */
  op: 'and' | 'or';
}

const f = Math.fround;
/** `tsrank.c`'s default weights (D, C, B, A) as the float4 they are there. */
const WEIGHTS = [f(0.1), f(0.2), f(0.4), f(1.0)] as const;
/** MAXENTRYPOS: positions are at most 16383; a lexeme without positions counts as being at 16383. */
const MAX_ENTRY_POS = 1 << 14;

/**
 * The lexeme quoted at `start` of a tsvector's or tsquery's text (`'it''s'`: a quote doubled, a
 * backslash escaping the next character, as PostgreSQL writes them) and the index after its closing
 * quote; undefined when no quoted lexeme starts there or it is not closed.
 */
function quoted(text: string, start: number): [lexeme: string, next: number] | undefined {
  if (text[start] !== "'") return undefined;
  let lexeme = '';
  let from = start + 1;
  for (let i = from; i < text.length; ) {
    const c = text[i];
    if (c === "'" && text[i + 1] === "'") {
      lexeme += text.slice(from, i + 1);
      i += 2;
      from = i;
    } else if (c === "'") {
      return [lexeme + text.slice(from, i), i + 1];
    } else if (c === '\\') {
      lexeme += text.slice(from, i) + (text[i + 1] ?? '');
      i += 2;
      from = i;
    } else i++;
  }
  return undefined;
}

/** A tsvector's text (`'draft':1 'answer':5,9B`) as its lexemes; a lexeme without positions gets none (`[]`). */
export function parseTsvector(text: string): Lexemes {
  const out: Lexemes = new Map();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    const read = quoted(text, i);
    if (!read) throw new Error('unexpected tsvector text');
    const [key, next] = read;
    i = next;
    if (text[i] !== ':') {
      out.set(key, []);
      continue;
    }
    i++;
    const positions: number[] = [];
    for (;;) {
      let pos = 0;
      while (i < n) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        pos = pos * 10 + d;
        i++;
      }
      let weight = 0;
      const w = text[i];
      if (w === 'A') weight = 3;
      else if (w === 'B') weight = 2;
      else if (w === 'C') weight = 1;
      if (weight > 0 || w === 'D') i++;
      positions.push(pos | (weight << 14));
      if (text[i] !== ',') break;
      i++;
    }
    out.set(key, positions.length === 1 ? positions[0]! : positions);
  }
  return out;
}

/**
 * The text of a tsquery PostgreSQL made (`to_tsquery(…)::text`) as a flat query, or undefined when it
 * is not one this module ranks (parentheses, negation, phrase, prefix or weight marks, mixed operators).
 * An empty text (only stop words) is a query with no lexemes: it matches nothing.
 */
export function parseFlatQuery(text: string): FlatQuery | undefined {
  const operands: string[] = [];
  let op: 'and' | 'or' | undefined;
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && text[i] === ' ') i++;
  };
  skip();
  if (i >= n) return { lexemes: [], op: 'or' };
  for (;;) {
    skip();
    const read = quoted(text, i);
    if (!read) return undefined;
    const [lexeme, after] = read;
    i = after;
    operands.push(lexeme);
    skip();
    if (i >= n) break;
    const c = text[i];
    const next = c === '&' ? 'and' : c === '|' ? 'or' : undefined;
    if (!next || (op && op !== next)) return undefined;
    op = next;
    i++;
  }
  // SortAndUniqItems: bytewise order, duplicates once.
  const lexemes = [...new Set(operands)].sort(compareBytes);
  return { lexemes, op: op === 'and' && lexemes.length > 1 ? 'and' : 'or' };
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** `vector @@ query` for a flat query: every lexeme (`and`) or any (`or`); no lexemes match nothing. */
export function matches(vector: Lexemes, query: FlatQuery): boolean {
  if (query.lexemes.length === 0) return false;
  if (query.op === 'and') {
    for (const lexeme of query.lexemes) if (!vector.has(lexeme)) return false;
    return true;
  }
  for (const lexeme of query.lexemes) if (vector.has(lexeme)) return true;
  return false;
}

const positionsOf = (entry: number | number[]): number[] => (typeof entry === 'number' ? [entry] : entry);
const weightOf = (position: number) => WEIGHTS[(position >> 14) & 3]!;

/** `ts_rank(vector, query)` as float4 (as a JavaScript number holding that float). */
export function tsRank(vector: Lexemes, query: FlatQuery): number {
  if (vector.size === 0 || query.lexemes.length === 0) return 0;
  const res = query.op === 'and' && query.lexemes.length >= 2 ? rankAnd(vector, query.lexemes) : rankOr(vector, query.lexemes);
  return res < 0 ? f(1e-20) : res;
}

function rankOr(vector: Lexemes, lexemes: string[]): number {
  let res = f(0);
  for (const lexeme of lexemes) {
    const entry = vector.get(lexeme);
    if (entry !== undefined) res = f(res + orTerm(entry));
  }
  return orRank(res, lexemes.length);
}

/** One position of each weight (D … A): its lexeme's term of the "or" rank (the sum below with one position). */
const SINGLE_TERMS = WEIGHTS.map((w) => f(f(w + w) - w) / 1.64493406685);

/**
 * A lexeme's term of `calc_rank_or` (a double, added to the float rank in the query's lexeme order):
 * its positions' weights summed with 1/i² falloff, the heaviest counted in full, over π²/6.
 */
export function orTerm(entry: number | number[]): number {
  if (typeof entry === 'number') return SINGLE_TERMS[(entry >> 14) & 3]!;
  // No positions: POSNULL, one position of weight D.
  if (entry.length <= 1) return SINGLE_TERMS[((entry[0] ?? 0) >> 14) & 3]!;
  let resj = f(0);
  let wjm = f(-1);
  let jm = 0;
  for (let j = 0; j < entry.length; j++) {
    const w = weightOf(entry[j]!);
    resj = f(resj + f(w / ((j + 1) * (j + 1))));
    if (w > wjm) {
      wjm = w;
      jm = j;
    }
  }
  // limit (sum(1/i^2), i=1..inf) = pi^2/6, in double (stored back to float by the caller's sum).
  return f(f(wjm + resj) - f(wjm / ((jm + 1) * (jm + 1)))) / 1.64493406685;
}

/** The "or" rank of a row from the sum of its terms ({@link orTerm}, in the query's order) over the query's `count` lexemes. */
export function orRank(sum: number, count: number): number {
  return f(sum / count);
}

function wordDistance(distance: number): number {
  if (distance > 100) return f(1e-30);
  return f(1.0 / (1.005 + 0.05 * Math.exp(f(distance) / 1.5 - 2)));
}

function rankAnd(vector: Lexemes, lexemes: string[]): number {
  let res = f(-1);
  const found: (number[] | 'null' | undefined)[] = [];
  for (let i = 0; i < lexemes.length; i++) {
    const entry = vector.get(lexemes[i]!);
    if (entry === undefined) continue;
    const own = positionsOf(entry);
    found[i] = own.length === 0 ? 'null' : own;
    const post = own.length === 0 ? [MAX_ENTRY_POS - 1] : own;
    for (let k = 0; k < i; k++) {
      const other = found[k];
      if (other === undefined) continue;
      const ct = other === 'null' ? [MAX_ENTRY_POS - 1] : other;
      for (const a of post) {
        for (const b of ct) {
          let distance = Math.abs((a & 0x3fff) - (b & 0x3fff));
          if (distance !== 0 || found[i] === 'null' || other === 'null') {
            if (distance === 0) distance = MAX_ENTRY_POS;
            const curw = f(Math.sqrt(f(f(weightOf(a) * weightOf(b)) * wordDistance(distance))));
            res = res < 0 ? curw : f(1.0 - (1.0 - res) * (1.0 - curw));
          }
        }
      }
    }
  }
  return res;
}
