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
