import { sql, type Kysely } from 'kysely';

/*
 * Indexes the code no longer reads, dropped after the migrations, each CONCURRENTLY. A DROP INDEX
 * among the migrations would hold its table exclusively until their one transaction committed, and
 * while it waited for that lock behind a long reader (a pg_dump, an analyst's session), every read
 * and append of the table would queue behind it. Dropped concurrently, an index is first given up
 * by the planner, then, once the transactions that could still read it have ended, by writes, and
 * then dropped; nobody waits for the drop meanwhile.
 */
const RETIRED_INDEXES = [
  // Served the feed filtered by type until it walked event_type_feed (type, tx, position): migration 2026-12-04T19-30-00.
  'event_type',
  // Served the claim of due deliveries until webhook_delivery_due_in_order had its whole order: migration 2026-12-06T09-00-00.
  'webhook_delivery_due',
] as const;

/**
 * Each wait for a lock (the table's, then each transaction that may still use the index, twice)
 * gives up after this, and the statement as a whole after RETIRED_INDEX_STATEMENT_TIMEOUT.
 */
const RETIRED_INDEX_LOCK_TIMEOUT = '5s';
const RETIRED_INDEX_STATEMENT_TIMEOUT = '20s';

/** A retired index the start could not drop, left for the next: what stopped it. */
export interface RetiredIndexLeft {
  readonly index: string;
  readonly reason: string;
}

/**
 * Drops each retired index still there, on a connection of its own, outside any transaction.
 * Dropping one only saves work, so nothing stops the start: a drop that gives up (its lock or
 * statement timeout, a deadlock with another session's DDL, a role that does not own the index)
 * leaves the index as it was, or given up by the planner, or by writes too, and the next start's
 * drop finishes it; the caller logs what was left.
 */
export async function dropRetiredIndexes<DB>(db: Kysely<DB>): Promise<RetiredIndexLeft[]> {
  try {
    return await db.connection().execute(async (connection) => {
      await sql.raw(`set statement_timeout = '${RETIRED_INDEX_STATEMENT_TIMEOUT}'`).execute(connection);
      await sql.raw(`set lock_timeout = '${RETIRED_INDEX_LOCK_TIMEOUT}'`).execute(connection);
      const left: RetiredIndexLeft[] = [];
      try {
        for (const index of RETIRED_INDEXES) {
          await sql`drop index concurrently if exists ${sql.ref(index)}`.execute(connection).catch((error: unknown) => {
            left.push({ index, reason: reasonOf(error) });
          });
        }
      } finally {
        await sql`reset lock_timeout`.execute(connection).catch(() => {});
        await sql`reset statement_timeout`.execute(connection).catch(() => {});
      }
      return left;
    });
  } catch (error) {
    return RETIRED_INDEXES.map((index) => ({ index, reason: reasonOf(error) }));
  }
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
