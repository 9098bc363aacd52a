import { parseTsvector, type Lexemes } from './text-rank.js';

/** A memory of a scope's recall window, as a recall reads it (its words parsed once, when it came in). */
export interface WindowRow {
  id: string;
  key: string;
  content: string;
  importance: number;
  /** `created_at` in whole milliseconds since the epoch. */
  createdAt: number;
  /** `last_recalled_at` in milliseconds, or null; kept up to date by this process's stamps. */
  recalledAt: number | null;
  /** Its lexemes (their positions are in the window's postings). */
  terms: string[];
  /**
   * Scratch of one recall's ranking (synchronous, so no two recalls share it): the recall that last
   * looked, how many of its lexemes the row holds, the sum of their "or" terms, the rank.
   */
  seenBy: number;
  held: number;
  orSum: number;
  rank: number;
}

/**
 * One scope's window: its newest memories (newest first), as of the scope's `version` and `epoch`, and
 * for each lexeme the window's rows that hold it (a recall looks up its query's lexemes, not every row).
 */
export interface ScopeWindow {
  version: number;
  epoch: number;
  rows: WindowRow[];
  byId: Map<string, WindowRow>;
  /** Per lexeme, the rows holding it with its positions there. */
  postings: Map<string, Map<WindowRow, number | number[]>>;
}

/** A changed row as the recall's statement returns it (`json_agg`). */
export interface ChangedRow {
  id: string;
  key: string;
  content: string;
  importance: number;
  created_ms: number;
  recalled_ms: number | null;
  search: string | null;
}

/**
 * The recall windows of the scopes this process recalls from (the scope's `size` newest memories each),
 * so a recall reads only what changed since the version it holds (SPEC §13.6; memory_scopes in
 * schema.ts) instead of walking the window's rows in PostgreSQL on every turn. Bounded: at most
 * `maxRows` memories over all scopes, the least recently recalled scope dropped first (≈ 22 MB of
 * heap at 4,000 memories of 60 lexemes and 400 characters each).
 */
export class RecallWindows {
  private readonly scopes = new Map<string, ScopeWindow>();
  private rows = 0;
  constructor(
    readonly size: number,
    private readonly maxRows = 4_000,
  ) {}

  /** The scope's window, if this process holds one (marked as recently used). */
  get(key: string): ScopeWindow | undefined {
    const window = this.scopes.get(key);
    if (window) {
      this.scopes.delete(key);
      this.scopes.set(key, window);
    }
    return window;
  }

  /**
   * The scope's window after the statement's answer: `changed` are the rows whose version is above the
   * window's (or every row of the window when `fresh`), as of `version` and `epoch`. Undefined when the
   * answer cannot be merged (more rows changed than it carried): the caller reads the window afresh.
   */
  update(key: string, { version, epoch, changed, fresh }: { version: number; epoch: number; changed: ChangedRow[]; fresh: boolean }): ScopeWindow | undefined {
    const held = fresh ? undefined : this.scopes.get(key);
    if (!fresh && (!held || held.epoch !== epoch)) return undefined;
    if (!fresh && changed.length > this.size) return undefined;
    const parsed = new Map<WindowRow, Lexemes>();
    const incoming = changed.map((changedRow) => rowOf(changedRow, parsed)).sort(newestFirst);
    const window: ScopeWindow = held ?? { version, epoch, rows: [], byId: new Map(), postings: new Map() };
    const before = window.rows.length;
    let replaced = false;
    for (const row of incoming) {
      const old = window.byId.get(row.id);
      if (old) {
        unindex(window, old);
        replaced = true;
      }
      window.byId.set(row.id, row);
      for (const [lexeme, positions] of parsed.get(row)!) {
        let rows = window.postings.get(lexeme);
        if (!rows) window.postings.set(lexeme, (rows = new Map()));
        rows.set(row, positions);
      }
    }
    if (incoming.length > 0) {
      const kept = replaced ? window.rows.filter((row) => window.byId.get(row.id) === row) : window.rows;
      // Usually every changed row is newer than the window's newest: put in front, else sort them in.
      window.rows = kept.length === 0 || incoming[incoming.length - 1]!.createdAt >= kept[0]!.createdAt ? incoming.concat(kept) : kept.concat(incoming).sort(newestFirst);
      if (window.rows.length > this.size) {
        for (const row of window.rows.slice(this.size)) unindex(window, row);
        window.rows.length = this.size;
      }
    }
    window.version = version;
    window.epoch = epoch;
    this.keep(key, window, before);
    return window;
  }

  /** Forgets every window (a test's, or an operator's reset). */
  clear(): void {
    this.scopes.clear();
    this.rows = 0;
  }

  /** `window` kept as `key`'s (which held `before` rows): the least recently used scopes go while the rows exceed the bound. */
  private keep(key: string, window: ScopeWindow, before: number): void {
    if (this.scopes.get(key) === window) {
      this.rows -= before;
      this.scopes.delete(key);
    } else {
      const old = this.scopes.get(key);
      if (old) {
        this.rows -= old.rows.length;
        this.scopes.delete(key);
      }
    }
    for (const [other, held] of this.scopes) {
      if (this.rows + window.rows.length <= this.maxRows) break;
      this.scopes.delete(other);
      this.rows -= held.rows.length;
    }
    this.scopes.set(key, window);
    this.rows += window.rows.length;
  }
}

/** A row out of the window's index (replaced by a newer version of it, or pushed out of the window). */
function unindex(window: ScopeWindow, row: WindowRow): void {
  if (window.byId.get(row.id) === row) window.byId.delete(row.id);
  for (const lexeme of row.terms) {
    const rows = window.postings.get(lexeme);
    if (!rows) continue;
    rows.delete(row);
    if (rows.size === 0) window.postings.delete(lexeme);
  }
}

function newestFirst(a: WindowRow, b: WindowRow): number {
  return b.createdAt - a.createdAt;
}

/** The row as the window keeps it, its lexemes (with their positions) put in `parsed`. */
function rowOf(row: ChangedRow, parsed: Map<WindowRow, Lexemes>): WindowRow {
  const lexemes: Lexemes = row.search ? parseTsvector(row.search) : new Map();
  const kept: WindowRow = {
    id: row.id,
    key: row.key,
    content: row.content,
    importance: Number(row.importance),
    createdAt: Number(row.created_ms),
    recalledAt: row.recalled_ms === null ? null : Number(row.recalled_ms),
    terms: [...lexemes.keys()],
    seenBy: 0,
    held: 0,
    orSum: 0,
    rank: 0,
  };
  parsed.set(kept, lexemes);
  return kept;
}

/** A row's positions of the query's lexemes it holds (what `@@` and `ts_rank` look at), from the window's postings. */
export function queryVector(window: ScopeWindow, row: WindowRow, lexemes: readonly string[]): Lexemes {
  const vector: Lexemes = new Map();
  for (const lexeme of lexemes) {
    const positions = window.postings.get(lexeme)?.get(row);
    if (positions !== undefined) vector.set(lexeme, positions);
  }
  return vector;
}
