import { sql, type Kysely } from 'kysely';
import { PROJECTION_LOCK } from './projection-lock.js';

/*
 * Rebuilding the read model from the log, online and in bounded chunks.
 *
 * The new tables are built in a schema of their own (ml_rebuild) by the very functions that keep
 * the live ones at append: the rebuild's one connection puts ml_rebuild first on its search_path.
 * Phase one reads, a chunk per transaction, every event committed when it began, in position order
 * (within a cell, the order its writers held the cell's lock: lock_projection.sql). Readers and
 * writers keep using the live tables meanwhile. Phase two takes the projection lock exclusively
 * (writers wait at their first step; readers do not), folds what was recorded since, and puts the
 * new tables in place of the old ones. Memory holds one chunk of ids; locks, one chunk's rows.
 */

const SCHEMA = 'ml_rebuild';
/** Every table the projection writes, in an order that lets the old ones be dropped. */
const READ_MODEL_TABLES = [
  'cell_evidence',
  'cell_step',
  'milestone_cell',
  'milestone_reschedule',
  'enrolment_elimination',
  'enrolment_entry',
  'milestone_entry',
  'consortium_entry',
  'program_entry',
] as const;

export interface RebuildProgress {
  readonly events: number;
  readonly seconds: number;
}

/** True when a migration has emptied the read model and no rebuild has switched in a new one since. */
export async function readModelNeedsRebuild<DB>(db: Kysely<DB>): Promise<boolean> {
  const { rows } = await sql<{ pending: boolean }>`select rebuild_pending as pending from read_model_status`.execute(db);
  return rows[0]?.pending ?? true;
}

export async function rebuildReadModel<DB>(
  db: Kysely<DB>,
  onProgress: (progress: RebuildProgress) => void,
  chunkSize = 5000,
): Promise<{ readonly events: number; readonly cells: number }> {
  const started = performance.now();
  const progress = (events: number) => onProgress({ events, seconds: (performance.now() - started) / 1000 });
  return db.connection().execute(async (conn) => {
    // One rebuild at a time: a second waits for the first, then rebuilds again.
    await sql`select pg_advisory_lock(hashtextextended('ml_rebuild', 0))`.execute(conn);
    try {
      return await rebuildOn(conn, progress, chunkSize);
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended('ml_rebuild', 0))`.execute(conn);
    }
  });
}

async function rebuildOn<DB>(
  conn: Kysely<DB>,
  progress: (events: number) => void,
  chunkSize: number,
): Promise<{ readonly events: number; readonly cells: number }> {
  await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(conn);
  await sql.raw(`create schema ${SCHEMA}`).execute(conn);
  for (const table of READ_MODEL_TABLES) {
    await sql.raw(`create table ${SCHEMA}.${table} (like public.${table} including all)`).execute(conn);
    // LIKE copies columns, constraints and indexes, not storage parameters (autovacuum's settings).
    const { rows } = await sql<{ options: string | null }>`
      select string_agg(format('%s = %L', o.option_name, o.option_value), ', ') as options
      from pg_class c cross join lateral pg_options_to_table(c.reloptions) o
      where c.oid = ${`public.${table}`}::regclass`.execute(conn);
    const options = rows[0]?.options;
    if (options) await sql.raw(`alter table ${SCHEMA}.${table} set (${options})`).execute(conn);
  }
  await sql.raw(`set search_path = ${SCHEMA}, public`).execute(conn);
  // Bounded by chunks, not by a timeout meant for requests.
  await sql`set statement_timeout = 0`.execute(conn);
  try {
    let snapshot = await currentSnapshot(conn);
    let after = '0';
    let events = 0;
    for (;;) {
      const chunk = await conn.transaction().execute(async (trx) => {
        const { rows: ids } = await sql<{ id: string; position: string }>`
          select id, position from event
          where position > ${after}::bigint and pg_visible_in_snapshot(tx, ${snapshot}::pg_snapshot)
          order by position limit ${chunkSize}`.execute(trx);
        if (ids.length > 0) await sql`select project_events(${ids.map((r) => r.id)}::uuid[])`.execute(trx);
        return ids;
      });
      const last = chunk.at(-1);
      if (last === undefined) break;
      after = last.position;
      events += chunk.length;
      progress(events);
    }
    // Catch up without locks on what was committed meanwhile, round by round, while there is much.
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      const next = await currentSnapshot(conn);
      const folded = await conn.transaction().execute(async (trx) => foldCommittedSince(trx, snapshot, next, chunkSize));
      snapshot = next;
      events += folded;
      progress(events);
      if (folded < SMALL_BACKLOG) break;
    }
    return await switchWhenFree(conn, async (trx) => {
      const rest = await foldCommittedSince(trx, snapshot, undefined, chunkSize);
      events += rest;
      await switchTables(trx);
      progress(events);
      const { rows: counted } = await sql<{ cells: number }>`select count(*)::int as cells from public.milestone_cell`.execute(trx);
      return { events, cells: counted[0]?.cells ?? 0 };
    });
  } finally {
    await sql`reset search_path`.execute(conn);
    await sql`reset statement_timeout`.execute(conn);
  }
}

const SWITCH_LOCK_TIMEOUT = '200ms';
const SWITCH_ATTEMPTS = 100;

/**
 * Runs the last step holding the projection lock (appends wait at their first step) and every live
 * table exclusively. A reader's statement takes its tables one after another, so waiting for them
 * while holding some could deadlock with it: the locks are asked for with a timeout shorter than
 * deadlock_timeout, and on a timeout the step is given up and tried again, so that no reader is
 * ever the one aborted.
 */
async function switchWhenFree<DB, T>(conn: Kysely<DB>, step: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await conn.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${PROJECTION_LOCK})`.execute(trx);
        await sql.raw(`set local lock_timeout = '${SWITCH_LOCK_TIMEOUT}'`).execute(trx);
        await sql.raw(`lock table ${READ_MODEL_TABLES.map((t) => `public.${t}`).join(', ')} in access exclusive mode`).execute(trx);
        await sql`set local lock_timeout = 0`.execute(trx);
        return step(trx);
      });
    } catch (error) {
      if (attempt >= SWITCH_ATTEMPTS || !isLockTimeout(error)) throw error;
    }
  }
}

const isLockTimeout = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === '55P03';

const CATCH_UP_ROUNDS = 10;
const SMALL_BACKLOG = 1000;

async function currentSnapshot<DB>(conn: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(conn);
  return rows[0]?.snapshot ?? '';
}

/**
 * Folds the events committed after `since` was taken (and, with `until`, before it was taken), in
 * position order, in chunks: an index range on transaction ids, never a scan of the log. Within a
 * cell, an event committed later also took the cell's lock later, so it has a greater position.
 */
async function foldCommittedSince<DB>(trx: Kysely<DB>, since: string, until: string | undefined, chunkSize: number): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    select id from event
    where tx >= pg_snapshot_xmin(${since}::pg_snapshot) and not pg_visible_in_snapshot(tx, ${since}::pg_snapshot)
      ${until === undefined ? sql`` : sql`and pg_visible_in_snapshot(tx, ${until}::pg_snapshot)`}
    order by position`.execute(trx);
  for (let i = 0; i < rows.length; i += chunkSize) {
    await sql`select project_events(${rows.slice(i, i + chunkSize).map((r) => r.id)}::uuid[])`.execute(trx);
  }
  return rows.length;
}

/** Puts the rebuilt tables in place of the live ones, under the live ones' index names. */
async function switchTables<DB>(trx: Kysely<DB>): Promise<void> {
  const { rows: names } = await sql<{ live: string; rebuilt: string }>`
    select l.indexname as live, r.indexname as rebuilt
    from pg_indexes l join pg_indexes r
      on r.schemaname = ${SCHEMA} and r.tablename = l.tablename
     and substring(r.indexdef from ' USING .*$') = substring(l.indexdef from ' USING .*$')
    where l.schemaname = 'public' and l.tablename = any (${[...READ_MODEL_TABLES]}::text[])`.execute(trx);
  for (const table of READ_MODEL_TABLES) await sql.raw(`drop table public.${table}`).execute(trx);
  for (const table of READ_MODEL_TABLES) await sql.raw(`alter table ${SCHEMA}.${table} set schema public`).execute(trx);
  for (const { live, rebuilt } of names) {
    if (live !== rebuilt) await sql`alter index ${sql.id('public', rebuilt)} rename to ${sql.id(live)}`.execute(trx);
  }
  // The only trigger on these tables: a rebuild notifies nothing, the live cells do (notify_status_change.sql).
  await sql`
    create trigger milestone_cell_status after insert or update of status on public.milestone_cell
    for each row execute function notify_status_change()`.execute(trx);
  await sql.raw(`drop schema ${SCHEMA}`).execute(trx);
  await sql`update public.read_model_status set rebuild_pending = false`.execute(trx);
}
