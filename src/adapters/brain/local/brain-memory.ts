import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { explorationWeights, scoreMemories, type LearningConfig } from '../../../core/learning/index.js';
import type { BrainScope, MemoryRecord, RecalledMemory, RecallQuery } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState } from '../../../ports/learning.js';
import { memoized } from '../../../shared/bounded-memo.js';
import { SomaError } from '../../../shared/errors.js';
import { tables, type Database } from '../../store/index.js';
import { queryVector, type RecallWindows, type ChangedRow, type ScopeWindow, type WindowRow } from './recall-window.js';
import { matches as textMatches, orRank, orTerm, parseFlatQuery, tsRank } from './text-rank.js';

/**
 * The recall window: the scope's newest this many memories, where a recall ranks the matches of any word
 * of its query (a walk of the scope index: its work is bounded however many memories match; a bitmap of
 * the GIN index for a common word costs more than the walk, measured in bench/recall.ts).
 */
export const RECALL_WINDOW = 500;
/** Best full-text matches (by `ts_rank`) of the window a recall scores. */
export const RECALL_MATCHES = 64;
/** Matches of every word of the query older than the window a recall also scores, newest first (old facts stay reachable). */
export const RECALL_OLDER = 32;
/** Older memories a recall walks (newest first) for matches of every word when the window shows such matches common. */
export const RECALL_OLDER_WALK = 2000;
/** `last_recalled_at` is kept to this precision (10 minutes): a memory recalled again sooner is not rewritten. */
export const RECALLED_PRECISION_MS = 10 * 60_000;
/** Newest memories of the scope a recall also scores, whether or not they match (recency may favour them). */
export const RECALL_RECENT = 16;

/** The `user_id` of a scope's memories: the user's, or '' when the capsule shares them (`memory_scope: "capsule"`). */
export function memoryOwner(scope: BrainScope, config: LearningConfig): string {
  return config.memory_scope === 'capsule' ? '' : (scope.userId ?? '');
}

/**
 * A memory scope's version raised (`$a…$c` its tenant, capsule and user): the first clause of every
 * statement that writes memories of the scope. It takes the scope row's lock, so a scope's versions
 * follow the order its writes commit in (a delete raises `epoch` too: {@link dropOverLimit}).
 */
export function bumpScope([tenant, capsule, user]: [string, string, string]): string {
  return `insert into memory_scopes (tenant_id, capsule_id, user_id, version) values (${tenant}, ${capsule}, ${user}, 1)
    on conflict (tenant_id, capsule_id, user_id) do update set version = memory_scopes.version + 1
    returning version`;
}

/** {@link bumpScope} as a clause of its own (`$1…$3`). */
export const BUMP_SCOPE = bumpScope(['$1', '$2', '$3']);

const rememberWrites = new Map<string, string>();
/** {@link rememberWrite} stamped with the version of the statement's clause `clause` (one text per name). */
export function rememberWriteAfter(clause: string): string {
  return memoized(rememberWrites, clause, 64, (name) => rememberWrite(`(select version from ${name})`));
}

/**
 * A memory stored or restated by its key, stamped with the scope's version `version` (an expression:
 * the statement's {@link bumpScope} clause): as a clause of a caller's statement, it returns nothing.
 */
export function rememberWrite(version: string): string {
  return `insert into memories (id, tenant_id, capsule_id, user_id, key, content, importance, novelty, tags, created_at, version)
    values ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::timestamptz, ${version})
    on conflict (tenant_id, capsule_id, user_id, key) do update
      set content = excluded.content, importance = excluded.importance, novelty = excluded.novelty, tags = excluded.tags, created_at = excluded.created_at, version = excluded.version`;
}

/** {@link rememberWrite} and the size of its scope after it (fixed text: a statement of every turn). */
const REMEMBER = `with bumped as (
    ${bumpScope(['$2', '$3', '$4'])}
  ), upserted as (
    ${rememberWrite('(select version from bumped)')}
    returning (xmax = 0) as fresh)
  select ((select count(*) from memories where tenant_id = $2 and capsule_id = $3 and user_id = $4) + (select count(*) from upserted where fresh))::int as count`;

/** A half-life below this reaches PostgreSQL as a denormal float8, which its input function refuses. */
const MIN_HALF_LIFE_S = 1e-6;

/** The parameters of {@link rememberWrite} for a memory of a scope (VALIDATION_FAILED for an invalid memory). */
export function memoryValues(now: number, { scope, config, memory }: { scope: BrainScope; config: LearningConfig; memory: MemoryRecord }): unknown[] {
  if (memory.key.length === 0 || memory.content.length === 0) throw new SomaError('VALIDATION_FAILED', 'a memory needs a non-empty key and content');
  const importance = unit(memory.importance ?? 0.5);
  const novelty = unit(memory.novelty ?? 0.5);
  return [crypto.randomUUID(), scope.tenantId, scope.capsuleId, memoryOwner(scope, config), memory.key, memory.content, importance, novelty, memory.tags ?? [], new Date(now).toISOString()];
}

/**
 * Stores (or restates, by key) a memory in its scope and keeps the scope within
 * `learning_config.memory_limit`: the memories with the lowest importance × recency go first.
 */
export async function rememberMemory(
  database: Database,
  clock: Clock,
  { scope, config, memory }: { scope: BrainScope; config: LearningConfig; memory: MemoryRecord },
): Promise<void> {
  const now = clock.now();
  // One statement: the upsert, and the scope's size after it (the count sees the scope as it was
  // before the statement, so a new row is added to it; a restated key is already counted).
  const [row] = await database.run<{ count: number }>({ text: REMEMBER, values: memoryValues(now, { scope, config, memory }) });
  if (Number(row?.count ?? 0) <= config.memory_limit) return;
  await dropOverLimit(database, now, { scope, config });
}

/**
 * Retention: keeps the `memory_limit` best memories of the scope by importance × recency (newest first
 * among equals), whatever else was remembered meanwhile. `counted` first counts the scope (the delete
 * sorts the whole scope; the count only walks its index), and drops nothing while it is within its limit.
 */
async function dropOverLimit(database: Database, now: number, { scope, config, counted = false }: { scope: BrainScope; config: LearningConfig; counted?: boolean }): Promise<void> {
  const m = tables.memories;
  const inScope = and(eq(m.tenantId, scope.tenantId), eq(m.capsuleId, scope.capsuleId), eq(m.userId, memoryOwner(scope, config)));
  if (counted) {
    const [row] = await database.db.select({ count: sql<number>`count(*)::int` }).from(m).where(inScope);
    if (Number(row?.count ?? 0) <= config.memory_limit) return;
  }
  const at = new Date(now).toISOString();
  const ageSeconds = sql`extract(epoch from (${at}::timestamptz - ${m.createdAt}))`;
  // The exponent is capped (2^-1000 is still a normal float8): a short half-life and an old memory would
  // otherwise make PostgreSQL's power() fail with "value out of range: underflow".
  const keepScore = sql`${m.importance} * power(2::float8, -least(1000::float8, greatest(0, ${ageSeconds}) / ${Math.max(config.recency_half_life_s, MIN_HALF_LIFE_S)}::float8))`;
  const victims = database.db.select({ id: m.id }).from(m).where(inScope).orderBy(desc(keepScore), desc(m.createdAt)).offset(config.memory_limit);
  // The scope's epoch is raised first (the bump is the delete's one-time filter): a process holding
  // the scope's recall window reads it afresh.
  const owner = memoryOwner(scope, config);
  await database.db.execute(
    sql`with bumped as (
      insert into memory_scopes (tenant_id, capsule_id, user_id, version, epoch) values (${scope.tenantId}, ${scope.capsuleId}, ${owner}, 1, 1)
        on conflict (tenant_id, capsule_id, user_id) do update set version = memory_scopes.version + 1, epoch = memory_scopes.epoch + 1
        returning version
    ) delete from memories where exists (select 1 from bumped) and id in (${victims})`,
  );
}

/**
 * Scopes whose memories were written as part of another statement ({@link rememberWrite} in a turn's
 * close), whose `memory_limit` is checked within `everyMs`: one count per scope per period instead of
 * one per memory, off every turn's path. Until then a scope may hold the memories of that period above
 * its limit. A failed check is tried again at the scope's next memory.
 */
export class MemoryLimits {
  private scopes = new Map<string, { scope: BrainScope; config: LearningConfig }>();
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly everyMs = 1_000,
  ) {}

  add(scope: BrainScope, config: LearningConfig): void {
    this.scopes.set(`${scope.tenantId}|${scope.capsuleId}|${memoryOwner(scope, config)}|${config.memory_limit}|${config.recency_half_life_s}`, { scope, config });
    this.timer ??= setTimeout(() => void this.flush(), this.everyMs).unref();
  }

  /** Checks the waiting scopes now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const scopes = [...this.scopes.values()];
    this.scopes = new Map();
    const now = this.clock.now();
    for (const entry of scopes) await dropOverLimit(this.database, now, { ...entry, counted: true }).catch(() => undefined);
  }
}

/**
 * A timestamp as the whole milliseconds since the epoch, as a float8 — the value a JavaScript `Date`
 * parsed from it holds (its microseconds cut off), without parsing a date per row (a recall reads up to
 * ≈ 160 timestamps).
 */
const EPOCH_MS = (column: string) => `floor(extract(epoch from ${column}) * 1000)::float8`;

/**
 * A recall's walk (fixed text, built once; `$1…$3` the scope, `$4` {@link RECALL_WINDOW}, `$5` the
 * query's words joined by `&`, `$6` {@link RECALL_RECENT}, `$7` joined by `|`, `$8` {@link RECALL_MATCHES}):
 * one walk of the scope index, newest first, bounded by the window — its newest few, its best matches of
 * any word (ts_rank only for those), where it ends and how many of its memories hold every word. The
 * walk carries only what picks the candidates (id, age, words); the picked rows are then read by id with
 * their text (carrying every walked memory's text through the walk cost about 10 % more). Text rank: a
 * memory with every word of the query is ranked against all of them (`&`), one with only some against
 * any (`|`). Each query is a scalar subquery — an InitPlan, parsed once per statement: a bare
 * `to_tsquery('english', $n)` is evaluated for every row walked under a generic plan (its parameter is
 * no constant to fold): 2.5 → 0.85 ms of PostgreSQL over 330 memories.
 */
const RECALL_WALK = recallWalk(true);

/** {@link RECALL_WALK} for a query without words: the newest few only (`$5` {@link RECALL_RECENT}). */
const RECALL_WALK_NO_WORDS = recallWalk(false);

/** The text of {@link RECALL_WALK} (with the query's words) or {@link RECALL_WALK_NO_WORDS}, made once at load. */
function recallWalk(withWords: boolean): string {
  const recent = withWords ? '$6' : '$5';
  const matches = withWords
    ? `
    union all select id, rank, ${recent} + row_number() over (order by rank desc, created_at desc) from (
      select id, created_at,
        (case when search @@ (select to_tsquery('english', $5)) then ts_rank(search, (select to_tsquery('english', $5)))
          else ts_rank(search, (select to_tsquery('english', $7))) end)::float8 as rank
        from walk where search @@ (select to_tsquery('english', $7)) order by rank desc, created_at desc limit $8
    ) matches`
    : '';
  return `with walk as (
    select id, created_at, search from memories where tenant_id = $1 and capsule_id = $2 and user_id = $3 order by created_at desc limit $4
  ), edge as (
    select case when count(*) = $4 then min(created_at)::text end as edge,
      ${withWords ? `count(*) filter (where search @@ (select to_tsquery('english', $5)))` : '0'} as every_word from walk
  ), picked as (
    select id, null::float8 as rank, row_number() over (order by created_at desc) as ord from (
      select id, created_at from walk order by created_at desc limit ${recent}
    ) recent${matches}
  )
  select m.id, m.key, m.content, m.importance, ${EPOCH_MS('m.created_at')} as created_ms, ${EPOCH_MS('m.last_recalled_at')} as recalled_ms, p.rank, null::text as edge, null::bigint as every_word, p.ord
    from picked p join memories m on m.id = p.id
  union all select null, null, null, null, null, null, null, edge, every_word, null from edge
  order by ord nulls last`;
}

/**
 * SPEC §5 / §13.2 recall, bounded at any scope size (never a scan of every memory). Candidates: the
 * scope's RECALL_RECENT newest memories; the RECALL_MATCHES best matches of any query word by text rank
 * (newest first among equal ranks) among its RECALL_WINDOW newest (one walk of the scope index); and the RECALL_OLDER newest older memories with
 * every query word — through the full-text (GIN) index where the window shows such memories rare, else by
 * a walk of the next RECALL_OLDER_WALK older ones (where they are common that many hold enough). Each is
 * scored `c = α·sim + β·importance + γ·recency`; the `top_k` best by `c` come back with their features and
 * `softmax(c/τ)` over them. Weights: `query.weights` when given, else the capsule's state nudged by the
 * turn's exploration draw. Two statements (one when the scope fits in the window).
 */
export async function recallMemories(
  database: Database,
  clock: Clock,
  {
    scope,
    config,
    state,
    query,
    stamps = new RecallStamps(database, 0),
    windows,
  }: { scope: BrainScope; config: LearningConfig; state: LearnedState | undefined; query: RecallQuery; stamps?: RecallStamps; windows?: RecallWindows },
): Promise<RecalledMemory[]> {
  const topK = Math.max(0, Math.floor(query.top_k));
  if (topK === 0) return [];
  if (!query.weights && !state) throw new Error('recall needs the capsule state or the weights to score with');
  const weights = query.weights ?? explorationWeights({ weights: state!.weights, seed: query.seed, config }).weights;
  const owner = memoryOwner(scope, config);
  const words = searchWords(query.query);
  const hasWords = words.length > 0;
  const now = clock.now();
  // The window's candidates are its best matches by text rank, newest first among equal ranks, as recall
  // always took them; c = α·sim + β·importance + γ·recency then ranks them. Choosing the candidates by c
  // made them follow the weights being learned: bench:learning's changing-facts world fell from a ratio of
  // gain of 1.00 to 0.65–0.74 (and to 0.47 with c breaking ties of text rank).
  // From the window this process keeps ({@link recallFromWindow}: one read of what changed), else one walk
  // of the scope index, newest first, bounded by the window ({@link RECALL_WALK}).
  const fromWindow = windows ? await recallFromWindow(database, windows, { scope, owner, words }) : undefined;
  const { matches, stats } = fromWindow ?? (await walkWindow(database, { scope, owner, words }));
  if (hasWords && stats.edge) {
    const inScope = sql`tenant_id = ${scope.tenantId} and capsule_id = ${scope.capsuleId} and user_id = ${owner}`;
    const everyWord = sql`(select to_tsquery('english', ${words.join(' & ')}))`;
    const select = async (statement: ReturnType<typeof sql>) => ((await database.db.execute(statement)) as unknown as { rows: Row[] }).rows;
    // Older memories with every word, newest first, ranked against all the words (like the window's). Where the window shows them
    // common, the newest older memories hold enough of them (a bounded walk of the scope index); where
    // rare, the full-text (GIN) index finds the few there are. Either way the rows read stay bounded.
    const common = Number(stats.every_word ?? 0) >= (RECALL_OLDER * RECALL_WINDOW) / RECALL_OLDER_WALK;
    const older = common
      ? sql`select id, key, content, importance, created_at, last_recalled_at, search from (
          select id, key, content, importance, created_at, last_recalled_at, search from memories
          where ${inScope} and created_at < ${stats.edge}::timestamptz order by created_at desc limit ${RECALL_OLDER_WALK}
        ) walk where search @@ ${everyWord} order by created_at desc limit ${RECALL_OLDER}`
      : // `offset 0` keeps the order out of the inner plan: the index of `search` finds the matches, then they are sorted.
        sql`select * from (
          select id, key, content, importance, created_at, last_recalled_at, search from memories
          where ${inScope} and search @@ ${everyWord} and created_at < ${stats.edge}::timestamptz offset 0
        ) matches order by created_at desc limit ${RECALL_OLDER}`;
    matches.push(...(await select(sql`select id, key, content, importance, ${sql.raw(EPOCH_MS('created_at'))} as created_ms, ${sql.raw(EPOCH_MS('last_recalled_at'))} as recalled_ms, ts_rank(search, ${everyWord})::float8 as rank from (${older}) older`)));
  }
  const rows = new Map<string, { id: string; key: string; content: string; importance: number; createdAt: number; recalledAt: number | null; rank: number }>();
  for (const row of matches) {
    const rank = Number(row.rank ?? 0);
    // A recent memory that also matched keeps its rank.
    if ((rows.get(row.id)?.rank ?? -1) < rank) rows.set(row.id, { id: row.id, key: row.key, content: row.content, importance: Number(row.importance), createdAt: Number(row.created_ms), recalledAt: row.recalled_ms === null ? null : Number(row.recalled_ms), rank });
  }
  if (rows.size === 0) return [];
  const candidates = [...rows.values()];
  // ts_rank is unbounded and small in absolute terms; the best match of this recall counts as similarity 1.
  const best = Math.max(...candidates.map((row) => row.rank));
  const byScore = scoreMemories({
    candidates: candidates.map((row) => ({
      key: row.key,
      content: row.content,
      similarity: best > 0 ? row.rank / best : 0,
      importance: row.importance,
      ageSeconds: Math.max(0, (now - row.createdAt) / 1000),
    })),
    weights,
    halfLifeSeconds: config.recency_half_life_s,
  }).slice(0, topK);
  // The weights of the memories returned, among themselves (the lane's softmax runs over the same set).
  const scored = scoreMemories({ candidates: byScore.map(({ weight: _w, raw: _r, ...candidate }) => candidate), weights, halfLifeSeconds: config.recency_half_life_s });
  // Bookkeeping nobody waits for: off the turn's critical path (a failure loses only the timestamp). Only
  // stamps older than RECALLED_PRECISION_MS are rewritten: every rewrite is a new row version with new
  // index entries (PGlite runs no autovacuum), and a hot scope's favourites would be rewritten on every turn.
  const byKey = new Map(candidates.map((row) => [row.key, row]));
  const stale = scored.map((memory) => byKey.get(memory.key)!).filter((row) => row.recalledAt === null || row.recalledAt < now - RECALLED_PRECISION_MS);
  if (stale.length > 0) {
    stamps.add(stale.map((row) => row.id), now);
    // The window's copies say so too (else the next recall would stamp them again).
    for (const row of stale) {
      const held = fromWindow?.held.get(row.id);
      if (held) held.recalledAt = now;
    }
  }
  return scored.map((memory) => ({
    key: memory.key,
    content: memory.content,
    score: memory.weight,
    raw: memory.raw,
    similarity: memory.similarity,
    importance: memory.importance,
    recency: memory.recency,
  }));
}

/** A candidate of a recall as its statement (or its window) gives it. */
type Row = { id: string; key: string; content: string; importance: number; created_ms: number | string; recalled_ms: number | string | null; rank: number | null; edge?: string | null; every_word?: number | null };
/** A recall's candidates from its window, and the window's edge (its oldest time, when full) and how many of it hold every word. */
type WindowCandidates = { matches: Row[]; stats: { edge?: string | null | undefined; every_word?: number | null | undefined } };

/** The recall window by one walk of the scope index in PostgreSQL ({@link RECALL_WALK}): ≈ 0.5 ms of its time over 500 memories. */
async function walkWindow(database: Database, { scope, owner, words }: { scope: BrainScope; owner: string; words: string[] }): Promise<WindowCandidates> {
  const walked = await database.run<Row>(
    words.length > 0
      ? { text: RECALL_WALK, values: [scope.tenantId, scope.capsuleId, owner, RECALL_WINDOW, words.join(' & '), RECALL_RECENT, words.join(' | '), RECALL_MATCHES] }
      : { text: RECALL_WALK_NO_WORDS, values: [scope.tenantId, scope.capsuleId, owner, RECALL_WINDOW, RECALL_RECENT] },
  );
  return { stats: walked.find((row) => row.id === null) ?? { edge: null, every_word: 0 }, matches: walked.filter((row) => row.id !== null) };
}

/**
 * What a recall reads of its scope when this process holds the scope's window: the scope's version and
 * epoch, the rows written since the window's version (every row of the window when the epoch moved or
 * the process holds none: `$4`, `$5` −1), and the query's lexemes as PostgreSQL parses them (`$7` every
 * word, `$8` any) — one statement, one snapshot. At most `$6` changed rows: those since the version,
 * by the scope's version index (latest first), or (the epoch moved) the window's walk, newest first;
 * the branch not taken is cut by its one-time filter before it reads a row.
 */
const CHANGED_COLUMNS = `id, key, content, importance, ${EPOCH_MS('created_at')} as created_ms, ${EPOCH_MS('last_recalled_at')} as recalled_ms, search::text as search`;
const RECALL_CHANGES = `with s as (select version, epoch from memory_scopes where tenant_id = $1 and capsule_id = $2 and user_id = $3),
  changed as (
    select * from (select ${CHANGED_COLUMNS} from memories
      where tenant_id = $1 and capsule_id = $2 and user_id = $3 and version > $4 and coalesce((select epoch from s), 0) = $5 order by version desc limit $6) since
    union all
    select * from (select ${CHANGED_COLUMNS} from memories
      where tenant_id = $1 and capsule_id = $2 and user_id = $3 and coalesce((select epoch from s), 0) <> $5 order by created_at desc limit $6) whole)
  select coalesce((select version from s), 0)::float8 as version, coalesce((select epoch from s), 0)::float8 as epoch,
    case when $7 = '' then '' else to_tsquery('english', $7)::text end as every_word,
    case when $8 = '' then '' else to_tsquery('english', $8)::text end as any_word,
    (select json_agg(changed) from changed) as changed`;

/** Recalls ranked in this process so far (marks a window row's scratch as this recall's). */
let recallCount = 0;

/**
 * The candidates {@link RECALL_WALK} gives, from the scope's window held in this process and brought
 * up to date by {@link RECALL_CHANGES}: its RECALL_RECENT newest, its RECALL_MATCHES best matches of any
 * word by `ts_rank` (text-rank.ts: PostgreSQL's float for float), its edge and its count of memories
 * with every word. Undefined for a query whose parsed form text-rank.ts does not rank (the walk then).
 */
async function recallFromWindow(database: Database, windows: RecallWindows, { scope, owner, words }: { scope: BrainScope; owner: string; words: string[] }): Promise<(WindowCandidates & { held: Map<string, WindowRow> }) | undefined> {
  const key = `${scope.tenantId}|${scope.capsuleId}|${owner}`;
  type Answer = { version: number; epoch: number; every_word: string; any_word: string; changed: ChangedRow[] | null };
  const read = async (held: ScopeWindow | undefined) => {
    const [answer] = await database.run<Answer>({
      text: RECALL_CHANGES,
      values: [scope.tenantId, scope.capsuleId, owner, held?.version ?? -1, held?.epoch ?? -1, windows.size + 1, words.join(' & '), words.join(' | ')],
    });
    if (!answer) throw new Error('the recall read returned no row');
    const epoch = Number(answer.epoch);
    const window = windows.update(key, { version: Number(answer.version), epoch, changed: answer.changed ?? [], fresh: !held || held.epoch !== epoch });
    return { window, answer };
  };
  let { window, answer } = await read(windows.get(key));
  // More changed than the answer carried, or the window moved meanwhile: the whole window afresh.
  if (!window) ({ window, answer } = await read(undefined));
  if (!window) return undefined;
  const every = parseFlatQuery(answer.every_word);
  const any = parseFlatQuery(answer.any_word);
  if (words.length > 0 && (!every || !any)) return undefined;
  const rows = window.rows;
  const held = new Map<string, WindowRow>();
  const candidate = (row: WindowRow, rank: number | null): Row => {
    held.set(row.id, row);
    return { id: row.id, key: row.key, content: row.content, importance: row.importance, created_ms: row.createdAt, recalled_ms: row.recalledAt, rank };
  };
  const matches = rows.slice(0, RECALL_RECENT).map((row) => candidate(row, null));
  let everyWord = 0;
  if (every && any && any.lexemes.length > 0) {
    // The rows holding any of the query's lexemes, from the window's postings, and how many each holds
    // (counted on the rows themselves: this runs to its end before any other recall).
    const recall = ++recallCount;
    const hit: WindowRow[] = [];
    for (const lexeme of any.lexemes) {
      const holding = window.postings.get(lexeme);
      if (!holding) continue;
      for (const [row, positions] of holding) {
        if (row.seenBy !== recall) {
          row.seenBy = recall;
          row.held = 0;
          row.orSum = 0;
          hit.push(row);
        }
        row.held++;
        // In the query's lexeme order, as ts_rank sums them.
        row.orSum = Math.fround(row.orSum + orTerm(positions));
      }
    }
    // `every` is the same words joined by `&`: the same lexemes (else each row is tested against it).
    const sameLexemes = every.lexemes.length === any.lexemes.length && every.lexemes.every((lexeme, i) => lexeme === any.lexemes[i]);
    for (const row of hit) {
      const all = sameLexemes ? row.held === every.lexemes.length : textMatches(queryVector(window, row, every.lexemes), every);
      if (all) everyWord++;
      // Ranked against every word when it holds them all ("and": by their distances), else against any ("or").
      row.rank = all && !(sameLexemes && every.op === 'or') ? tsRank(queryVector(window, row, every.lexemes), every) : orRank(row.orSum, any.lexemes.length);
    }
    hit.sort((a, b) => b.rank - a.rank || b.createdAt - a.createdAt);
    for (let i = 0; i < Math.min(RECALL_MATCHES, hit.length); i++) matches.push(candidate(hit[i]!, hit[i]!.rank));
  }
  const edge = rows.length >= windows.size ? new Date(rows[rows.length - 1]!.createdAt).toISOString() : null;
  return { matches, stats: { edge, every_word: everyWord }, held };
}

/**
 * `last_recalled_at` stamps waiting to be written: bookkeeping nobody reads on a turn's path, so the
 * stamps of every recall in `everyMs` go out as one statement (stamped with the latest recall's time,
 * within {@link RECALLED_PRECISION_MS}) instead of one write per recall. `everyMs` 0 writes each at once.
 * A failed write loses only the stamps.
 */
export class RecallStamps {
  private ids = new Set<string>();
  private at = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly database: Database,
    private readonly everyMs = 1_000,
  ) {}

  add(ids: readonly string[], at: number): void {
    for (const id of ids) this.ids.add(id);
    this.at = Math.max(this.at, at);
    if (this.everyMs <= 0) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.everyMs).unref();
  }

  /** Writes the waiting stamps now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ids.size === 0) return;
    const ids = [...this.ids];
    const at = new Date(this.at);
    this.ids = new Set();
    const m = tables.memories;
    await this.database.db
      .update(m)
      .set({ lastRecalledAt: at })
      .where(inArray(m.id, ids))
      .then(
        () => undefined,
        () => undefined,
      );
  }
}

/** The query's distinct words for `to_tsquery` (only letters and digits survive; at most 32). */
export function searchWords(query: string): string[] {
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, 32);
}

/** The query's words joined with `|` for `to_tsquery` (any word may match). */
export function searchTerms(query: string): string {
  return searchWords(query).join(' | ');
}

function unit(value: number): number {
  if (!Number.isFinite(value)) throw new SomaError('VALIDATION_FAILED', 'importance and novelty must be numbers in [0, 1]');
  return Math.min(1, Math.max(0, value));
}
