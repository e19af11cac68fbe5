import { sql, type Kysely } from 'kysely';
import { isLockTimeout } from '../src/store/database-failure.js';

/*
 * Indexes the code no longer reads, dropped after the migrations, each CONCURRENTLY. A DROP INDEX
 * among the migrations would hold its table exclusively until their one transaction committed, and
 * while it waited for that lock behind a long reader (a pg_dump, an analyst's session), every read
 * and append of the table would queue behind it. Dropped concurrently, an index is first given up
 * by the planner, then, once the transactions that could still read it have ended, by writes, and
 * then dropped; nobody waits for the drop meanwhile.
 */
export const RETIRED_INDEXES = [
  // Served the feed filtered by type until it walked event_type_feed (type, tx, position): migration 2026-12-04T19-30-00.
  'event_type',
] as const;

/**
 * How long a drop waits for the transactions that may still use its index. Longer, it leaves the
 * index for the next start (invalid, no plan reads it, though writes may still keep it), rather
 * than hold up this one.
 */
export const RETIRED_INDEX_LOCK_TIMEOUT = '5s';

/** Drops each retired index still there, on a connection of its own, outside any transaction. */
export async function dropRetiredIndexes<DB>(db: Kysely<DB>): Promise<void> {
  await db.connection().execute(async (connection) => {
    // A request's statement timeout would cut the wait short with another error; the lock timeout bounds it.
    await sql`set statement_timeout = 0`.execute(connection);
    await sql.raw(`set lock_timeout = '${RETIRED_INDEX_LOCK_TIMEOUT}'`).execute(connection);
    try {
      for (const index of RETIRED_INDEXES) {
        await sql`drop index concurrently if exists ${sql.ref(index)}`.execute(connection).catch((error: unknown) => {
          if (!isLockTimeout(error)) throw error;
        });
      }
    } finally {
      await sql`reset lock_timeout`.execute(connection).catch(() => {});
      await sql`reset statement_timeout`.execute(connection).catch(() => {});
    }
  });
}
