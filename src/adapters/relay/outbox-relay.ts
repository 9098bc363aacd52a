import { sql } from 'drizzle-orm';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { Database, Executor } from '../store/index.js';
import { PublishError, type EventPublisher, type RelayMessage } from './kafka-publisher.js';
import { planRetry, retryDelayMs, type BackoffOptions } from './retry-plan.js';

/** Where the relay reports; the composition root wires it to prom-client. */
export interface RelayMetrics {
  /** Rows still `pending` (refreshed at most every `pendingRefreshMs`). */
  setPending(count: number): void;
  /** Rows that just became `dead`. */
  countDead(count: number): void;
  /** Commit-to-publish lag of one row: publish time − `created_at`, in seconds. */
  observeLag(seconds: number): void;
  countPublished(count: number): void;
}

/** The subset of a pino logger the relay uses. */
export interface RelayLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * `lock`: claim with `FOR UPDATE SKIP LOCKED` and keep the transaction open while Kafka acknowledges,
 * then mark the rows in it (PostgreSQL). `lease`: claim in one short statement that pushes
 * `next_retry_at` forward by `leaseMs`, publish with no transaction open, mark in a second short
 * statement (PGlite, whose single connection would otherwise be blocked for the whole publish).
 * Both are at-least-once; see docs/decisions/2026-11-24-kafka-relay.md.
 */
export type ClaimMode = 'lock' | 'lease';

export interface OutboxRelayOptions {
  database: Database;
  publisher: EventPublisher;
  batchSize?: number;
  /** Wait between polls when the outbox has nothing due. */
  pollIntervalMs?: number;
  /** A row Kafka rejects this many times becomes `dead`. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  logger?: RelayLogger;
  metrics?: RelayMetrics;
  /** Default: `lock` on PostgreSQL, `lease` on PGlite. */
  claimMode?: ClaimMode;
  /** How long a `lease` claim keeps other relays off the rows; longer than any publish. */
  leaseMs?: number;
  /** Topic to publish to: default the row's `topic`; a string replaces it, a function maps it (tests use unique topics). */
  topic?: string | ((rowTopic: string) => string);
  pendingRefreshMs?: number;
  /**
   * PGlite runs no autovacuum, and each relayed row leaves dead row versions behind that every later
   * claim wades through. There the relay runs `VACUUM ANALYZE outbox_messages` after changing this
   * many rows (0 = never). Ignored on PostgreSQL, whose autovacuum does it.
   */
  vacuumEveryRows?: number;
}

export interface RelayRunResult {
  claimed: number;
  published: number;
  /** Rows whose publish failed this run (retried later, or dead). */
  failed: number;
  /** Rows that became `dead` this run. */
  dead: number;
  /** The failures of this run were the broker being unreachable. */
  transientFailure: boolean;
}

export interface OutboxRelay {
  /** Starts polling in the background (idempotent). */
  start(): void;
  /** Stops polling; resolves once the in-flight batch is finished and marked. */
  stop(): Promise<void>;
  /** Claims, publishes and marks one batch. */
  runOnce(): Promise<RelayRunResult>;
  readonly running: boolean;
}

interface ClaimedRow {
  id: string;
  seq: number;
  turnId: string | null;
  topic: string;
  partitionKey: string;
  eventType: string;
  value: string;
  headers: Record<string, string>;
  attempts: number;
  createdMs: number;
}

interface RawRow {
  id: string;
  seq: string | number;
  turn_id: string | null;
  topic: string;
  partition_key: string;
  event_type: string;
  value: string;
  headers: Record<string, unknown> | string | null;
  attempts: number;
  created_ms: string | number;
}

const silentLogger: RelayLogger = { warn: () => undefined, error: () => undefined };

/** Relays `outbox_messages` to Kafka (SPEC §7): oldest due rows first, in batches; several relays may run at once. */
export function createOutboxRelay({
  database,
  publisher,
  batchSize = 500,
  pollIntervalMs = 100,
  maxAttempts = 5,
  backoff = { baseMs: 500, maxMs: 60_000 },
  clock = systemClock,
  logger = silentLogger,
  metrics,
  claimMode = database.driver === 'pglite' ? 'lease' : 'lock',
  leaseMs = 30_000,
  topic,
  pendingRefreshMs = 1_000,
  vacuumEveryRows = 20_000,
}: OutboxRelayOptions): OutboxRelay {
  const topicOf = (rowTopic: string) => (typeof topic === 'function' ? topic(rowTopic) : (topic ?? rowTopic));
  let lastPendingRefresh = Number.NEGATIVE_INFINITY;
  let changedSinceVacuum = 0;

  async function vacuumIfDue(changed: number): Promise<void> {
    if (database.driver !== 'pglite' || vacuumEveryRows <= 0) return;
    changedSinceVacuum += changed;
    if (changedSinceVacuum < vacuumEveryRows) return;
    changedSinceVacuum = 0;
    await database.query(sql`VACUUM ANALYZE outbox_messages`);
  }

  const claimColumns = sql`id, seq, turn_id, topic, partition_key, event_type, payload::text AS value, headers, attempts,
    extract(epoch from created_at) * 1000 AS created_ms`;

  async function claimLocked(executor: Executor, now: number): Promise<ClaimedRow[]> {
    // Oldest due first, read straight off outbox_pending_idx (status, next_retry_at, seq): the claim
    // costs one batch whatever the backlog or the published history. Without statistics (PGlite
    // never autovacuums) the planner would rather sort the whole backlog, so rule that out here.
    await database.query(sql`SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`, executor);
    const rows = await database.query<RawRow>(
      sql`SELECT ${claimColumns} FROM outbox_messages
          WHERE status = 'pending' AND next_retry_at <= ${iso(now)}::timestamptz
          ORDER BY next_retry_at, seq LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
      executor,
    );
    const claimed = rows.map(toClaimed);
    // Due earlier rows of the claimed rows' turns join the batch, so a turn's rows retried after a
    // failure (due later than the rows written after them) are not left outside the window.
    const turns = turnsOf(claimed);
    if (turns.length > 0) {
      const lastSeq = Math.max(...claimed.map((row) => row.seq));
      const more = await database.query<RawRow>(
        sql`SELECT ${claimColumns} FROM outbox_messages
            WHERE status = 'pending' AND turn_id = ANY(${uuidArray(turns)}::uuid[]) AND seq < ${lastSeq} AND next_retry_at <= ${iso(now)}::timestamptz
              AND NOT (id = ANY(${uuidArray(claimed.map((row) => row.id))}::uuid[]))
            FOR UPDATE SKIP LOCKED`,
        executor,
      );
      claimed.push(...more.map(toClaimed));
    }
    return inTurnOrder(executor, claimed);
  }

  /**
   * One turn's events reach Kafka in the order they were written (SPEC §13.4): a row of a turn is
   * published only together with — or after — every earlier pending row of that turn. Rows whose
   * earlier ones are backing off, beyond this batch, or being published by another relay (still
   * `pending` until it marks them) wait for a later claim. The batch goes out in `seq` order.
   */
  async function inTurnOrder(executor: Executor, rows: ClaimedRow[]): Promise<ClaimedRow[]> {
    const turns = turnsOf(rows);
    if (turns.length > 0) {
      const pending = await database.query<{ turn_id: string; seqs: (string | number)[] | string }>(
        sql`SELECT turn_id, array_agg(seq ORDER BY seq) AS seqs FROM outbox_messages
            WHERE status = 'pending' AND turn_id = ANY(${uuidArray(turns)}::uuid[]) GROUP BY turn_id`,
        executor,
      );
      const claimed = new Set(rows.map((row) => row.seq));
      const inOrder = new Set<number>();
      for (const { seqs } of pending) {
        for (const seq of parseSeqs(seqs)) {
          if (!claimed.has(seq)) break;
          inOrder.add(seq);
        }
      }
      rows = rows.filter((row) => !row.turnId || inOrder.has(row.seq));
    }
    return rows.sort((a, b) => a.seq - b.seq);
  }

  async function claimLeased(now: number): Promise<ClaimedRow[]> {
    return database.db.transaction(async (tx) => {
      const rows = await claimLocked(tx, now);
      if (rows.length > 0) {
        await database.query(
          sql`UPDATE outbox_messages SET next_retry_at = ${iso(now + leaseMs)}::timestamptz
              WHERE id = ANY(${uuidArray(rows.map((row) => row.id))}::uuid[])`,
          tx,
        );
      }
      return rows;
    });
  }

  const toMessage = (row: ClaimedRow): RelayMessage => ({
    topic: topicOf(row.topic),
    key: row.partitionKey,
    value: row.value,
    headers: { ...row.headers, idempotency_key: row.headers.idempotency_key ?? '', event_type: row.eventType, event_id: row.id },
  });

  /** Publishes the batch; when Kafka rejects it, publishes row by row so one bad row cannot hold back the others. */
  async function publish(rows: ClaimedRow[]): Promise<{ published: ClaimedRow[]; failed: Array<{ row: ClaimedRow; error: PublishError }> }> {
    try {
      await publisher.publishBatch(rows.map(toMessage));
      return { published: rows, failed: [] };
    } catch (cause) {
      const error = asPublishError(cause);
      if (error.transient || rows.length === 1) return { published: [], failed: rows.map((row) => ({ row, error })) };
      logger.warn({ err: error.message, rows: rows.length }, 'Kafka rejected an outbox batch; publishing its rows one by one');
    }
    const published: ClaimedRow[] = [];
    const failed: Array<{ row: ClaimedRow; error: PublishError }> = [];
    for (const [index, row] of rows.entries()) {
      try {
        await publisher.publishBatch([toMessage(row)]);
        published.push(row);
      } catch (cause) {
        const error = asPublishError(cause);
        if (error.transient) {
          for (const rest of rows.slice(index)) failed.push({ row: rest, error });
          break;
        }
        failed.push({ row, error });
      }
    }
    return { published, failed };
  }

  async function mark(
    executor: Executor,
    { published, failed }: Awaited<ReturnType<typeof publish>>,
    publishedAt: number,
    onlyPending: boolean,
  ): Promise<number> {
    const pendingOnly = onlyPending ? sql` AND status = 'pending'` : sql``;
    if (published.length > 0) {
      await database.query(
        sql`UPDATE outbox_messages SET status = 'published', published_at = ${iso(publishedAt)}::timestamptz
            WHERE id = ANY(${uuidArray(published.map((row) => row.id))}::uuid[])${pendingOnly}`,
        executor,
      );
    }
    // One UPDATE per (attempts, error kind): usually a whole failed batch shares both.
    const groups = new Map<string, { attempts: number; error: PublishError; ids: string[] }>();
    for (const { row, error } of failed) {
      const key = `${row.attempts}:${error.transient}:${error.message}`;
      const group = groups.get(key) ?? { attempts: row.attempts, error, ids: [] };
      group.ids.push(row.id);
      groups.set(key, group);
    }
    let dead = 0;
    for (const { attempts, error, ids } of groups.values()) {
      const plan = planRetry({ attempts, transient: error.transient }, { now: publishedAt, maxAttempts, backoff });
      await database.query(
        sql`UPDATE outbox_messages SET attempts = attempts + 1, last_error = ${error.message.slice(0, 2_000)},
              next_retry_at = ${iso(plan.nextRetryAt)}::timestamptz, status = ${plan.status}
            WHERE id = ANY(${uuidArray(ids)}::uuid[])${pendingOnly}`,
        executor,
      );
      if (plan.status === 'dead') dead += ids.length;
    }
    if (failed.length > 0) {
      // The later rows of a failed row's turn wait for it (inTurnOrder): they are due no earlier, so
      // they do not fill the claims while the failed row backs off.
      await database.query(
        sql`UPDATE outbox_messages AS o SET next_retry_at = greatest(o.next_retry_at, f.next_retry_at)
            FROM (SELECT turn_id, min(seq) AS seq, max(next_retry_at) AS next_retry_at FROM outbox_messages
                  WHERE id = ANY(${uuidArray(failed.map(({ row }) => row.id))}::uuid[]) AND turn_id IS NOT NULL AND status = 'pending' GROUP BY turn_id) AS f
            WHERE o.status = 'pending' AND o.turn_id = f.turn_id AND o.seq > f.seq`,
        executor,
      );
    }
    return dead;
  }

  async function refreshPending(force: boolean): Promise<void> {
    if (!metrics) return;
    const now = clock.now();
    if (!force && now - lastPendingRefresh < pendingRefreshMs) return;
    lastPendingRefresh = now;
    const [row] = await database.query<{ pending: number | string }>(
      sql`SELECT count(*)::int AS pending FROM outbox_messages WHERE status = 'pending'`,
    );
    metrics.setPending(Number(row?.pending ?? 0));
  }

  async function runOnce(): Promise<RelayRunResult> {
    let outcome: Awaited<ReturnType<typeof publish>> = { published: [], failed: [] };
    let claimed = 0;
    let dead = 0;
    let publishedAt = 0;
    if (claimMode === 'lock') {
      await database.db.transaction(async (tx) => {
        const rows = await claimLocked(tx, clock.now());
        claimed = rows.length;
        if (rows.length === 0) return;
        outcome = await publish(rows);
        publishedAt = clock.now();
        dead = await mark(tx, outcome, publishedAt, false);
      });
    } else {
      const rows = await claimLeased(clock.now());
      claimed = rows.length;
      if (rows.length > 0) {
        outcome = await publish(rows);
        publishedAt = clock.now();
        dead = await database.db.transaction((tx) => mark(tx, outcome, publishedAt, true));
      }
    }
    if (metrics && outcome.published.length > 0) {
      metrics.countPublished(outcome.published.length);
      for (const row of outcome.published) metrics.observeLag(Math.max(0, publishedAt - row.createdMs) / 1_000);
    }
    if (dead > 0) {
      metrics?.countDead(dead);
      logger.error({ dead, err: outcome.failed[0]?.error.message }, 'outbox rows are dead after repeated rejections by Kafka');
    }
    if (outcome.failed.length > 0) {
      logger.warn({ failed: outcome.failed.length, err: outcome.failed[0]?.error.message }, 'publishing outbox rows to Kafka failed; will retry');
    }
    await refreshPending(claimed < batchSize || dead > 0);
    await vacuumIfDue(claimed);
    return {
      claimed,
      published: outcome.published.length,
      failed: outcome.failed.length,
      dead,
      transientFailure: outcome.failed.some(({ error }) => error.transient),
    };
  }

  let loop: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function poll(): Promise<void> {
    let transientFailures = 0;
    let errors = 0;
    while (!stopping) {
      let result: RelayRunResult;
      try {
        result = await runOnce();
        errors = 0;
      } catch (error) {
        // The database failed; the batch's rows stay pending (lock) or come back after the lease.
        errors += 1;
        logger.error({ err: (error as Error).message }, 'outbox relay batch failed');
        if (!stopping) await pause(retryDelayMs(errors, backoff));
        continue;
      }
      if (stopping) break;
      if (result.transientFailure) {
        // Kafka is unreachable: back off instead of cycling every pending row through a failed send.
        transientFailures += 1;
        await pause(retryDelayMs(transientFailures, backoff));
      } else {
        transientFailures = 0;
        if (result.claimed < batchSize) await pause(pollIntervalMs);
      }
    }
  }

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = poll().finally(() => {
        loop = undefined;
      });
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    runOnce,
    get running() {
      return loop !== undefined;
    },
  };
}

const turnsOf = (rows: ClaimedRow[]) => [...new Set(rows.flatMap((row) => (row.turnId ? [row.turnId] : [])))];

/** A bigint[] as node-postgres (numbers or strings) or PGlite (a `{1,2}` literal) returns it. */
function parseSeqs(value: (string | number)[] | string): number[] {
  const list = typeof value === 'string' ? value.replace(/[{}]/g, '').split(',').filter((v) => v !== '') : value;
  return list.map(Number);
}

function toClaimed(raw: RawRow): ClaimedRow {
  const headers = typeof raw.headers === 'string' ? (JSON.parse(raw.headers) as Record<string, unknown>) : (raw.headers ?? {});
  return {
    id: raw.id,
    seq: Number(raw.seq),
    turnId: raw.turn_id,
    topic: raw.topic,
    partitionKey: raw.partition_key,
    eventType: raw.event_type,
    value: raw.value,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)])),
    attempts: Number(raw.attempts),
    createdMs: Number(raw.created_ms),
  };
}

function asPublishError(error: unknown): PublishError {
  if (error instanceof PublishError) return error;
  // An unknown failure counts as a rejection, so it cannot retry a row forever.
  return new PublishError(error instanceof Error ? error.message : String(error), { transient: false, cause: error });
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A PostgreSQL array literal of uuids, sent as one parameter (works the same on both drivers). */
const uuidArray = (ids: string[]) => `{${ids.join(',')}}`;
