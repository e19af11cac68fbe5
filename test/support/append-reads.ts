import { sql, type Transaction } from 'kysely';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { recordEvents } from '../../src/services/record-events.js';
import type { Database, Db } from '../../src/store/database.js';

/**
 * `measure` taken just before and just after one append, all in one transaction: the
 * pg_stat_xact_* counters the measures read are the transaction's own (they also hold the
 * connection's earlier transactions until those are flushed, hence the difference).
 */
async function aroundAppend<T>(db: Db, events: readonly unknown[], measure: (trx: Transaction<Database>) => Promise<T>): Promise<{ before: T; after: T }> {
  return db.transaction().execute(async (trx) => {
    const before = await measure(trx);
    await recordEvents(trx, {
      events: events.map((e) => ProposedEvent.parse(e)),
      principal: { keyId: 'cost', name: 'cost', role: 'writer' },
      requestId: 'cost',
      idempotencyKey: undefined,
    });
    return { before, after: await measure(trx) };
  });
}

/**
 * The rows one append reads, in every statement the append_events() function runs: those a
 * sequential scan passed over, those an index scan fetched, and the index entries every index scan
 * (index-only ones too) returned, counted by pg_stat_xact_user_tables and pg_stat_get_xact_tuples_returned.
 */
export async function rowsReadToAppend(db: Db, events: readonly unknown[]): Promise<number> {
  const { before, after } = await aroundAppend(db, events, async (trx) => {
    const { rows } = await sql<{ n: number }>`
      select (select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) from pg_stat_xact_user_tables)::int
           + (select coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0) from pg_stat_user_indexes i)::int as n`.execute(trx);
    return rows[0]?.n ?? Number.NaN;
  });
  return after - before;
}

/** The sequential scans one append ran, per table that had any, and the rows they passed over. */
export async function sequentialScansToAppend(db: Db, events: readonly unknown[]): Promise<Record<string, { scans: number; rows: number }>> {
  const { before, after } = await aroundAppend(db, events, async (trx) => {
    const { rows } = await sql<{ table: string; scans: number; rows: number }>`
      select relname as table, seq_scan::int as scans, seq_tup_read::int as rows from pg_stat_xact_user_tables`.execute(trx);
    return new Map(rows.map((r) => [r.table, r]));
  });
  return Object.fromEntries(
    [...after].flatMap(([table, now]) => {
      const then = before.get(table) ?? { scans: 0, rows: 0 };
      return now.scans > then.scans ? [[table, { scans: now.scans - then.scans, rows: now.rows - then.rows }]] : [];
    }),
  );
}
