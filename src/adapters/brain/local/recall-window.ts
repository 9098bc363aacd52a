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
  lexemes: Lexemes;
}

/** One scope's window: its newest memories (newest first), as of the scope's `version` and `epoch`. */
export interface ScopeWindow {
  version: number;
  epoch: number;
  rows: WindowRow[];
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
 * `maxRows` memories over all scopes, the least recently recalled scope dropped first.
 */
export class RecallWindows {
  private readonly scopes = new Map<string, ScopeWindow>();
  private rows = 0;
  constructor(
    readonly size: number,
    private readonly maxRows = 10_000,
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
    const incoming = changed.map(rowOf).sort(newestFirst);
    let rows: WindowRow[];
    if (!held || held.rows.length === 0) rows = incoming;
    else if (incoming.length === 0) rows = held.rows;
    else {
      const ids = new Set(incoming.map((row) => row.id));
      const kept = held.rows.filter((row) => !ids.has(row.id));
      // Usually every changed row is newer than the window's newest: put in front, else sort them in.
      rows = kept.length === 0 || incoming[incoming.length - 1]!.createdAt >= kept[0]!.createdAt ? incoming.concat(kept) : kept.concat(incoming).sort(newestFirst);
    }
    if (rows.length > this.size) rows = rows.slice(0, this.size);
    const window = { version, epoch, rows };
    this.keep(key, window);
    return window;
  }

  /** Forgets every window (a test's, or an operator's reset). */
  clear(): void {
    this.scopes.clear();
    this.rows = 0;
  }

  private keep(key: string, window: ScopeWindow): void {
    const old = this.scopes.get(key);
    if (old) {
      this.rows -= old.rows.length;
      this.scopes.delete(key);
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

function newestFirst(a: WindowRow, b: WindowRow): number {
  return b.createdAt - a.createdAt;
}

function rowOf(row: ChangedRow): WindowRow {
  return {
    id: row.id,
    key: row.key,
    content: row.content,
    importance: Number(row.importance),
    createdAt: Number(row.created_ms),
    recalledAt: row.recalled_ms === null ? null : Number(row.recalled_ms),
    lexemes: row.search ? parseTsvector(row.search) : new Map(),
  };
}
