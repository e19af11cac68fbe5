import { sql } from 'kysely';
import type { Db } from './database.js';

/** What a look at the appends under way found (settledBefore). */
export interface KnownHorizon {
  /** Before this instant every event that will ever be recorded is committed. */
  readonly settled: Date;
  /** The database's clock when the look began, to the millisecond. */
  readonly now: Date;
}

/**
 * The first instant not yet settled in system time: no event recorded before it can still commit.
 *
 * An append reads its recorded_at (clock_timestamp()) and commits some time later; a read meanwhile
 * does not see its events. So a knownAt after that recorded_at, answered before the commit, would
 * leave them out, and the same question asked after the commit would count them: an answer about a
 * past K would change. So each append holds, from just before it reads its recorded_at until it
 * commits, a lock named by a moment no later than it (db/functions/hold_recording_lock.sql): the
 * earliest such moment in the lock table bounds what may still come. An append that takes its
 * lock after the table is read reads its recorded_at later still, after this statement began,
 * which bounds the answer too. Truncated to the millisecond, the precision a cut-off is given and
 * echoed in (cut-off.ts), so that the echoed knownAt asked again is this same bound.
 *
 * Read in a statement of its own, before the view's: the view's snapshot, taken after, sees every
 * append that had ended by then.
 */
export async function settledBefore(db: Db): Promise<KnownHorizon> {
  const { rows } = await sql<{ settled: Date; now: Date }>`
    select date_trunc('milliseconds', least(statement_timestamp(), min(recording_lock_moment(l.classid, l.objid)))) as settled,
           date_trunc('milliseconds', statement_timestamp()) as now
    from pg_locks l
    where l.locktype = 'advisory' and l.objsubid = 2 and l.mode = 'ShareLock'
      and l.database = (select d.oid from pg_database d where d.datname = current_database())`.execute(db);
  const found = rows[0];
  if (found === undefined) throw new Error('no horizon read');
  return found;
}
