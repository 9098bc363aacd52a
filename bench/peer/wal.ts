/**
 * What PostgreSQL writes for one of Soma's turns, from its write-ahead log (pg_walinspect, a contrib
 * extension of PostgreSQL ≥ 15): bytes, row locks (`Heap/LOCK`: a foreign key checked, an upsert's
 * conflict), index entries (`Btree/INSERT_LEAF`) and commits per turn, by WAL record type. Counts, not
 * timings: the same code gives the same figures on a busy machine, so a change to the turn's writes
 * shows up here even where its time is lost in the noise.
 */
import pg from 'pg';
import { runSoma, type SomaBench } from './soma.js';
import { r1 } from './stats.js';

export interface WalRecordKind {
  record: string;
  per_turn: number;
  bytes_per_turn: number;
}

export interface WalOfTurns {
  turns: number;
  bytes_per_turn: number;
  row_locks_per_turn: number;
  index_entries_per_turn: number;
  commits_per_turn: number;
  records: WalRecordKind[];
}

/**
 * `turns` turns at concurrency 1 (after a warm-up, so recall has memories) with the WAL they wrote;
 * undefined when the server lacks pg_walinspect or the user may not read the WAL.
 */
export async function walOfTurns(bench: SomaBench, url: string, turns = 30): Promise<WalOfTurns | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    try {
      await client.query('create extension if not exists pg_walinspect');
    } catch {
      return undefined;
    }
    const lsn = async () => (await client.query<{ lsn: string }>('select pg_current_wal_flush_lsn()::text as lsn')).rows[0]!.lsn;
    let from = '';
    let to = '';
    await runSoma(bench, {
      conc: 1,
      turns,
      warmup: 5,
      measure: async (work) => {
        from = await lsn();
        await work();
        // The turns' background writes (a remember that did not ride on the close) land within this, and
        // the WAL writer flushes what no commit did (pg_walinspect reads only flushed WAL).
        await new Promise((r) => setTimeout(r, 300));
        to = await lsn();
      },
    });
    const rows = (
      await client.query<{ record: string; count: string; bytes: string }>(
        `select "resource_manager/record_type" as record, count::text, combined_size::text as bytes from pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) where count > 0 order by combined_size desc`,
        [from, to],
      )
    ).rows;
    const total = Number((await client.query<{ bytes: string }>('select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text as bytes', [from, to])).rows[0]!.bytes);
    const of = (record: string) => Number(rows.find((r) => r.record === record)?.count ?? 0) / turns;
    return {
      turns,
      bytes_per_turn: Math.round(total / turns),
      row_locks_per_turn: r1(of('Heap/LOCK')),
      index_entries_per_turn: r1(of('Btree/INSERT_LEAF')),
      commits_per_turn: r1(of('Transaction/COMMIT')),
      records: rows
        .map((r) => ({ record: r.record, per_turn: r1(Number(r.count) / turns), bytes_per_turn: Math.round(Number(r.bytes) / turns) }))
        .filter((r) => r.per_turn >= 0.5),
    };
  } finally {
    await client.end();
  }
}
