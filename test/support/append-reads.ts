import { sql } from 'kysely';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { recordEvents } from '../../src/services/record-events.js';
import type { Db } from '../../src/store/database.js';

/**
 * The rows one append reads, in every statement the append_events() function runs: those a
 * sequential scan passed over, those an index scan fetched, and the index entries every index scan
 * (index-only ones too) returned, counted by pg_stat_xact_user_tables and pg_stat_get_xact_tuples_returned
 * before and after it in its own transaction (the counts also hold the connection's earlier
 * transactions until they are flushed).
 */
export async function rowsReadToAppend(db: Db, events: readonly unknown[]): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rowsRead = async () => {
      const { rows } = await sql<{ n: number }>`
        select (select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) from pg_stat_xact_user_tables)::int
             + (select coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0) from pg_stat_user_indexes i)::int as n`.execute(trx);
      return rows[0]?.n ?? Number.NaN;
    };
    const before = await rowsRead();
    await recordEvents(trx, {
      events: events.map((e) => ProposedEvent.parse(e)),
      principal: { keyId: 'cost', name: 'cost', role: 'writer' },
      requestId: 'cost',
      idempotencyKey: undefined,
    });
    return (await rowsRead()) - before;
  });
}

/**
 * The sequential scans one append ran, per table, and the rows they passed over: from
 * pg_stat_xact_user_tables before and after it in its own transaction, as rowsReadToAppend counts.
 */
export async function sequentialScansToAppend(db: Db, events: readonly unknown[]): Promise<Record<string, { scans: number; rows: number }>> {
  return db.transaction().execute(async (trx) => {
    const scans = async () => {
      const { rows } = await sql<{ table: string; scans: number; rows: number }>`
        select relname as table, seq_scan::int as scans, seq_tup_read::int as rows from pg_stat_xact_user_tables`.execute(trx);
      return new Map(rows.map((r) => [r.table, r]));
    };
    const before = await scans();
    await recordEvents(trx, {
      events: events.map((e) => ProposedEvent.parse(e)),
      principal: { keyId: 'cost', name: 'cost', role: 'writer' },
      requestId: 'cost',
      idempotencyKey: undefined,
    });
    const after = await scans();
    return Object.fromEntries(
      [...after].flatMap(([table, now]) => {
        const then = before.get(table) ?? { scans: 0, rows: 0 };
        return now.scans > then.scans ? [[table, { scans: now.scans - then.scans, rows: now.rows - then.rows }]] : [];
      }),
    );
  });
}
