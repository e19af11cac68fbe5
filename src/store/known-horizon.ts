import { sql } from 'kysely';
import type { Db } from './database.js';
import { PROJECTION_LOCK } from './projection-lock.js';

/** What a look at the appends under way found (settledBefore). */
export interface KnownHorizon {
  /** Before this instant every event that will ever be recorded is committed. */
  readonly settled: Date;
  /** An append under way whose start this database role cannot see: `settled` then says nothing. */
  readonly hidden: boolean;
  /** The database's clock when the look began, to the millisecond. */
  readonly now: Date;
}

/**
 * The first instant not yet settled in system time: no event recorded before it can still commit.
 *
 * An append reads its recorded_at (clock_timestamp()) while it holds the projection lock shared
 * (db/functions/lock_projection.sql), and commits some time later; a read meanwhile does not see
 * its events. So a knownAt after that recorded_at, answered before the commit, would leave them out,
 * and the same question asked after the commit would count them: an answer about a past K would
 * change. Every append that may still commit an event recorded before now holds that lock, or
 * waits for it, and began no later than it read its recorded_at.
 *
 * The bound is the earliest transaction start of the lock's holders and waiters, and this
 * statement's own start: the lock table and the sessions' activity are each read once during the
 * statement, after it started, so an append that took the lock after either was read, or whose
 * session showed no transaction then, began after this statement did, and records later. Truncated
 * to the millisecond, the precision a cut-off is given and echoed in (cut-off.ts), so that the
 * echoed knownAt asked again is this same bound.
 *
 * Read in a statement of its own, before the view's: the view's snapshot, taken after, sees every
 * append that had ended by then. pg_stat_activity hides the transaction start of another database
 * role's session (without pg_read_all_stats): such a holder is reported as `hidden`.
 */
export async function settledBefore(db: Db): Promise<KnownHorizon> {
  const { rows } = await sql<{ settled: Date; hidden: boolean; now: Date }>`
    select date_trunc('milliseconds', least(statement_timestamp(), min(a.xact_start))) as settled,
           date_trunc('milliseconds', statement_timestamp()) as now,
           coalesce(bool_or(a.pid is not null and a.xact_start is null and a.query = '<insufficient privilege>'), false) as hidden
    from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.mode = 'ShareLock' and l.objsubid = 1
      and l.database = (select d.oid from pg_database d where d.datname = current_database())
      and ((l.classid::bigint << 32) | l.objid::bigint) = ${PROJECTION_LOCK}`.execute(db);
  const found = rows[0];
  if (found === undefined) throw new Error('no horizon read');
  return found;
}
