import { sql, type Kysely } from 'kysely';
import { isLockTimeout } from './database-failure.js';
import { PROJECTION_LOCK } from './projection-lock.js';
import { buildIndexesAfterFold, createRebuildTables, READ_MODEL_TABLES, REBUILD_SCHEMA, switchTables, vacuumRebuildTables } from './rebuild-tables.js';

/*
 * Rebuilding the read model from the log, online and in bounded chunks.
 *
 * The new tables are built in a schema of their own (ml_rebuild) by the very functions that keep
 * the live ones at append: the rebuild's connections put ml_rebuild first on their search_path.
 * Phase one reads, a chunk per transaction, every event committed when it began, in position order
 * (within a cell, the order its writers held the cell's lock: lock_projection.sql): it fills the
 * registries and writes down each event's cells in a work table. Phase two folds each cell's whole
 * history, a chunk of cells per transaction (a cell holding more than CELL_SLICE events, a slice of
 * it per transaction), on one or more connections, into tables without the indexes only views
 * read; the tables are vacuumed and analyzed, then those indexes built (rebuild-tables.ts), and
 * what was committed meanwhile folded in rounds, a slice per transaction.
 * Readers and writers keep using the live tables meanwhile. Phase three takes the projection lock
 * exclusively (writers wait at their first step; readers do not), folds what was recorded since,
 * and puts the new tables and their indexes in place of the old ones. Memory
 * holds one chunk: of events' ids, or of cells' histories; locks, one chunk's rows.
 */

/** Events read, and about as many folded, per transaction. */
const CHUNK_SIZE = 5000;

export interface RebuildProgress {
  /**
   * Waiting for another rebuild to end (queue), or for the statements of one stopped meanwhile to end
   * on the tables it left (leftovers: until the server notices its client gone, minutes on a busy
   * cell; appends go on meanwhile), reading the log (registries, and which cells each event bears on), folding each cell's history,
   * vacuuming and analyzing the new tables, building the indexes the fold went without (each reported
   * as it starts: minutes at 10M events), catching up (a report each round), or switching: folding,
   * holding appends, what was recorded since the last round began, and putting the new tables in
   * place (a report as it starts, and one once done, the last).
   */
  readonly phase: 'queue' | 'leftovers' | 'read' | 'fold' | 'vacuum' | 'index' | 'catch-up' | 'switch';
  /** Events read from the log so far. */
  readonly events: number;
  /** Cells folded so far, in the fold phase. */
  readonly cells: number;
  readonly seconds: number;
}

/** What a start, or `npm run migrate`, says while the rebuild a migration asked for waits for another ('queue'). */
export const WAITING_FOR_ANOTHER_REBUILD = 'waiting for another rebuild of the read model to end (an instance starting, or npm run projections:rebuild)';

/** True when a migration has asked for a rebuild (emptied the read model, or added what only the log can fill) and none has switched in new tables since. */
export async function readModelNeedsRebuild<DB>(db: Kysely<DB>): Promise<boolean> {
  const { rows } = await sql<{ pending: boolean }>`select rebuild_pending as pending from public.read_model_status`.execute(db);
  return rows[0]?.pending ?? true;
}

/** What a rebuild folded. */
export interface Rebuilt {
  readonly events: number;
  readonly cells: number;
}

export async function rebuildReadModel<DB>(
  db: Kysely<DB>,
  onProgress: (progress: RebuildProgress) => void,
  chunkSize = CHUNK_SIZE,
  /** Connections that fold cells side by side; more than one only on a PostgreSQL server. */
  workers = 1,
): Promise<Rebuilt> {
  return (await rebuildOnce(db, onProgress, chunkSize, workers, 'always')) ?? { events: 0, cells: 0 };
}

/**
 * The rebuild a migration asks for (db/migrator.ts): instances that start at once each ask, and
 * the first rebuilds while the others wait, then find nothing left to do (undefined).
 */
export async function rebuildReadModelIfPending<DB>(db: Kysely<DB>, onProgress: (progress: RebuildProgress) => void = () => {}): Promise<Rebuilt | undefined> {
  return rebuildOnce(db, onProgress, CHUNK_SIZE, 1, 'if pending');
}

async function rebuildOnce<DB>(
  db: Kysely<DB>,
  onProgress: (progress: RebuildProgress) => void,
  chunkSize: number,
  workers: number,
  when: 'always' | 'if pending',
): Promise<Rebuilt | undefined> {
  const started = performance.now();
  const progress = (phase: RebuildProgress['phase'], events: number, cells: number) =>
    onProgress({ phase, events, cells, seconds: (performance.now() - started) / 1000 });
  return db.connection().execute((conn) => exemptFromFeedHorizon(conn, async () => {
    // Waiting for another instance's rebuild, or for the projection lock, is no request: the
    // service's statement timeout would stop a second instance starting beside a first.
    await sql`set statement_timeout = 0`.execute(conn);
    try {
      // One rebuild at a time: a second waits for the first, then rebuilds again if asked to; saying so.
      const { rows: free } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(hashtextextended('ml_rebuild', 0)) as locked`.execute(conn);
      if (free[0]?.locked !== true) {
        progress('queue', 0, 0);
        await sql`select pg_advisory_lock(hashtextextended('ml_rebuild', 0))`.execute(conn);
      }
      try {
        if (when === 'if pending' && !(await readModelNeedsRebuild(conn))) return undefined;
        return await rebuildOn(db, conn, progress, chunkSize, workers);
      } finally {
        // On a connection that died the server has dropped the lock; the rebuild's own error is the one to report.
        await sql`select pg_advisory_unlock(hashtextextended('ml_rebuild', 0))`.execute(conn).catch(() => {});
      }
    } finally {
      await sql`reset statement_timeout`.execute(conn).catch(() => {});
    }
  }));
}

/**
 * Runs `step` on `conn` holding the feed-exempt lock (db/functions/feed_exempt_lock_key.sql), taken
 * here outside any transaction: the feed's horizon then passes the connection's transactions,
 * which record no event and no notification (a fold of a busy cell held the feed and the live feed back
 * for minutes). Let go after, as the connection goes back to the pool for requests that do.
 */
async function exemptFromFeedHorizon<DB, T>(conn: Kysely<DB>, step: () => Promise<T>): Promise<T> {
  await sql`select pg_advisory_lock_shared(feed_exempt_lock_key())`.execute(conn);
  try {
    return await step();
  } finally {
    // On a connection that died the server has dropped the lock.
    await sql`select pg_advisory_unlock_shared(feed_exempt_lock_key())`.execute(conn).catch(() => {});
  }
}

async function rebuildOn<DB>(
  db: Kysely<DB>,
  conn: Kysely<DB>,
  progress: (phase: RebuildProgress['phase'], events: number, cells: number) => void,
  chunkSize: number,
  workers: number,
): Promise<{ readonly events: number; readonly cells: number }> {
  await holdingProjectionLock(conn, createRebuildTables, () => progress('leftovers', 0, 0));
  return inRebuildSession(conn, async () => {
    let snapshot = await currentSnapshot(conn);
    // Each phase said as it begins, not only once its first chunk is done: a chunk of a few busy
    // cells folds for minutes, which a start-up rebuild's log left unsaid (the review of the start log).
    progress('read', 0, 0);
    let events = await readLog(conn, snapshot, chunkSize, (n) => progress('read', n, 0));
    progress('fold', events, 0);
    await foldCells(db, conn, chunkSize, workers, (cells) => progress('fold', events, cells));
    await holdingProjectionLock(conn, (trx) => sql.raw(`drop table ${REBUILD_SCHEMA}.${CELL_EVENT}, ${REBUILD_SCHEMA}.${CELL_COUNT}`).execute(trx));
    // Before the indexes built after the fold: a vacuum visits every index of its table.
    progress('vacuum', events, 0);
    await vacuumRebuildTables(conn);
    progress('index', events, 0);
    await buildIndexesAfterFold(conn);
    // Catch up without locks on what was committed meanwhile, round by round, until a round is
    // short: the switch then folds, holding appends, what was committed since that round began. A
    // round is judged by its time as well as its events: a few hundred late facts in busy cells took
    // seconds, and what came meanwhile, folded under the lock, held appends past their statement
    // timeout (three 503s in one switch, in the probe of the rebuild at scale). Rounds that grow
    // will not converge (writers record faster than a round folds): going on would only leave the
    // switch a longer one's backlog, so the switch comes then too. Clearly growing: a round a little
    // slower than the one before (a burst, a checkpoint) may yet be followed by a shorter one.
    let previous = Infinity;
    for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
      const began = performance.now();
      const next = await currentSnapshot(conn);
      // A transaction a slice: the first round folds all that was recorded during the fold.
      const folded = await foldCommittedSince(conn, snapshot, next, chunkSize, (slice) => conn.transaction().execute(slice));
      snapshot = next;
      events += folded;
      progress('catch-up', events, 0);
      const took = performance.now() - began;
      if ((folded < SMALL_BACKLOG && took < SHORT_ROUND_MS) || took >= GROWING * previous) break;
      previous = took;
    }
    return await switchWhenFree(conn, async (trx) => {
      // Said as it starts: appends wait from here until the transaction commits.
      progress('switch', events, 0);
      const rest = await foldCommittedSince(trx, snapshot, undefined, chunkSize, (slice) => slice(trx));
      events += rest;
      await switchTables(trx);
      progress('switch', events, 0);
      const { rows: counted } = await sql<{ cells: number }>`select count(*)::int as cells from public.milestone_cell`.execute(trx);
      return { events, cells: counted[0]?.cells ?? 0 };
    });
  });
}

/**
 * Drops tables holding the projection lock, as the switch does, so never while another instance's
 * migrator holds it (db/migrator.ts): Kysely's migrator reads the columns of every table, looking
 * each up by name, and fails on one dropped between its scan and the look-up ("relation … does not
 * exist", seen when three instances started at once). Appends wait a moment: the tables' other
 * users are waited for first (lockLeftoverTables), not holding the lock; `waiting` is told if any.
 */
async function holdingProjectionLock<DB>(conn: Kysely<DB>, step: (trx: Kysely<DB>) => Promise<unknown>, waiting = () => {}): Promise<void> {
  await conn.transaction().execute(async (trx) => {
    await lockLeftoverTables(trx, waiting);
    await sql`select pg_advisory_xact_lock(${PROJECTION_LOCK})`.execute(trx);
    await step(trx);
  });
}

/**
 * Takes every table a rebuild before this one left (createRebuildTables drops them), before the
 * projection lock: a rebuild stopped by kill -9 leaves its workers' statements running on them until
 * the server notices its client gone, and dropping the tables waits for those. With the projection
 * lock held meanwhile, every append waited too, 503 after its statement timeout, for minutes (found by
 * the probe of the rebuild at scale); appends never touch these tables, so they go on while this waits.
 */
async function lockLeftoverTables<DB>(trx: Kysely<DB>, waiting: () => void): Promise<void> {
  const { rows } = await sql<{ name: string; held: boolean }>`
    select format('%I.%I', n.nspname, c.relname) as name,
           exists (select 1 from pg_locks l
                   where l.database = (select oid from pg_database where datname = current_database())
                     and l.relation = c.oid and l.pid <> pg_backend_pid()) as held
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${REBUILD_SCHEMA} and c.relkind = 'r'
    order by c.relname`.execute(trx);
  if (rows.length === 0) return;
  if (rows.some((r) => r.held)) waiting();
  await sql.raw(`lock table ${rows.map((r) => r.name).join(', ')} in access exclusive mode`).execute(trx);
}

/**
 * Runs `step` on `conn` with the rebuild's session settings, and puts the connection's own back
 * after: the other workers' connections go back to the pool.
 */
async function inRebuildSession<DB, T>(conn: Kysely<DB>, step: () => Promise<T>): Promise<T> {
  await sql.raw(`set search_path = ${REBUILD_SCHEMA}, public`).execute(conn);
  // Bounded by chunks, not by a timeout meant for requests.
  await sql`set statement_timeout = 0`.execute(conn);
  await checkClientConnection(conn);
  try {
    return await step();
  } finally {
    await sql`reset search_path`.execute(conn).catch(() => {});
    await sql`reset statement_timeout`.execute(conn).catch(() => {});
    await sql`reset client_connection_check_interval`.execute(conn).catch(() => {});
  }
}

/**
 * Has the server look, every second while a statement of `conn` runs, whether the rebuild's socket
 * is still open, and end the statement if not (PostgreSQL 14+). Without it, a rebuild whose process
 * ended (kill, kill -9, Ctrl-C, a crash) left its workers' folds running on the server until they
 * next wrote to their client: minutes on a busy cell, which the next rebuild waited for
 * ("leftovers"). A host that vanishes or a network that drops closes no socket: that is still seen
 * only by TCP keepalive (the server's tcp_keepalives_* settings). A server that cannot look (a
 * platform without the means, the embedded database) refuses the setting: then nothing changes.
 */
async function checkClientConnection<DB>(conn: Kysely<DB>): Promise<void> {
  await sql`set client_connection_check_interval = '1s'`.execute(conn).catch(() => {});
}

/** The rebuild's work table: each event of the log beside each cell it bears on. */
const CELL_EVENT = 'cell_event';
/** The rebuild's list of cells to fold, with the number of events of each. */
const CELL_COUNT = 'cell_count';

/**
 * Reads every event committed when the snapshot was taken, a chunk per transaction in position
 * order: puts what the definitions define in the registries, and writes down which cells each
 * event bears on, as the registries stand once the chunk's definitions are in. That may name a
 * cell before its plan or enrolment was recorded; apply_to_cell.sql creates a cell only from the
 * batch that finds both recorded, as at append.
 */
async function readLog<DB>(conn: Kysely<DB>, snapshot: string, chunkSize: number, progress: (events: number) => void): Promise<number> {
  await sql.raw(`
    create unlogged table ${REBUILD_SCHEMA}.${CELL_EVENT} (
      program_id text not null, milestone text not null, consortium_id text not null,
      event_id uuid not null, recorded_at timestamptz not null, event_position bigint not null)`).execute(conn);
  let after = '0';
  let events = 0;
  for (;;) {
    const chunk = await conn.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string; position: string; defines: boolean; bears: boolean }>`
        select e.id, e.position, r.role <> 'fact' as defines, r.role <> 'fact' or e.milestone is not null as bears
        from event e join event_type_rule r on r.type = e.type
        where e.position > ${after}::bigint and pg_visible_in_snapshot(e.tx, ${snapshot}::pg_snapshot)
        order by e.position limit ${chunkSize}`.execute(trx);
      const defining = rows.filter((r) => r.defines).map((r) => r.id);
      if (defining.length > 0) await sql`select project_definitions(${defining}::uuid[])`.execute(trx);
      const bearing = rows.filter((r) => r.bears).map((r) => r.id);
      if (bearing.length > 0) {
        await sql`
          insert into ${sql.table(`${REBUILD_SCHEMA}.${CELL_EVENT}`)}
          select * from touched_cells(${bearing}::uuid[])`.execute(trx);
      }
      return rows;
    });
    const last = chunk.at(-1);
    if (last === undefined) return events;
    after = last.position;
    events += chunk.length;
    progress(events);
  }
}

type CellKey = { readonly program: string; readonly milestone: string; readonly consortium: string };

/**
 * Folds each cell's whole history at once, cells in key order, a chunk of cells per transaction:
 * apply_to_cell.sql folds the batches that came in world-time order in one pass, and the others
 * one by one, as appends did. Cells are independent, so `workers` connections fold chunks side by
 * side, each chunk handed out once.
 */
async function foldCells<DB>(
  db: Kysely<DB>,
  conn: Kysely<DB>,
  chunkSize: number,
  workers: number,
  progress: (cells: number) => void,
): Promise<void> {
  const table = sql.table(`${REBUILD_SCHEMA}.${CELL_EVENT}`);
  await sql.raw(`create index on ${REBUILD_SCHEMA}.${CELL_EVENT} (program_id, milestone, consortium_id, recorded_at, event_position)`).execute(conn);
  await sql.raw(`analyze ${REBUILD_SCHEMA}.${CELL_EVENT}`).execute(conn);
  // Each cell and its number of events, once: a claim reads the next cells' counts from here, not
  // by counting their events again (counted in the work table, each claim re-counted the busy cells
  // ahead of it: 58 ms a claim at 1M, one worker at a time).
  const counts = sql.table(`${REBUILD_SCHEMA}.${CELL_COUNT}`);
  await sql`
    create unlogged table ${counts} as
    select c.program_id, c.milestone, c.consortium_id, count(*) as events from ${table} c
    group by c.program_id, c.milestone, c.consortium_id`.execute(conn);
  await sql`alter table ${counts} add primary key (program_id, milestone, consortium_id)`.execute(conn);
  await sql`analyze ${counts}`.execute(conn);
  const cellsPerChunk = Math.max(1, Math.floor(chunkSize / CELL_CHUNK_DIVISOR));
  const slice = Math.min(chunkSize, CELL_SLICE);
  let after: CellKey = { program: '', milestone: '', consortium: '' };
  let cells = 0;
  let stop = false;
  // One worker at a time takes the next chunk: the key of its last cell.
  let claiming: Promise<unknown> = Promise.resolve();
  const claim = (worker: Kysely<DB>): Promise<{ readonly from: CellKey; readonly to: CellKey; readonly cells: number; readonly events: number } | undefined> => {
    const claimed = claiming.then(async () => {
      if (stop) return undefined;
      // The next cells in key order, up to cellsPerChunk of them and about chunkSize events between
      // them (at least one cell): the busy cells, which hold most of the work, go one or a few a chunk,
      // so that the workers share them. A cell holding more than a slice of events goes alone, to be
      // folded in slices (foldInSlices): a chunk ends before it.
      const { rows } = await worker.transaction().execute(async (trx) => {
        // The next cells of the list of cells, down its key: estimated from the key's first column
        // alone, a range of it can look like a large share of the table and be planned as a scan.
        await sql`set local enable_seqscan = off`.execute(trx);
        return sql<CellKey & { cells: number; events: number }>`
        select k.program_id as program, k.milestone, k.consortium_id as consortium, k.cells::int as cells, k.running::int as events
        from (
          select k.*, sum(k.events) over (order by k.program_id, k.milestone, k.consortium_id) as running,
                 row_number() over (order by k.program_id, k.milestone, k.consortium_id) as cells,
                 count(*) filter (where k.events > ${slice}) over (order by k.program_id, k.milestone, k.consortium_id) as large
          from (
            select c.program_id, c.milestone, c.consortium_id, c.events from ${counts} c
            where (c.program_id, c.milestone, c.consortium_id) > (${after.program}, ${after.milestone}, ${after.consortium})
            order by c.program_id, c.milestone, c.consortium_id
            limit ${cellsPerChunk}
          ) k
        ) k
        where k.cells = 1 or (k.running - k.events < ${chunkSize} and k.large = 0)
        order by k.program_id desc, k.milestone desc, k.consortium_id desc
        limit 1`.execute(trx);
      });
      const last = rows[0];
      if (last === undefined) return undefined;
      const from = after;
      const to = { program: last.program, milestone: last.milestone, consortium: last.consortium };
      after = to;
      return { from, to, cells: last.cells, events: last.events };
    });
    claiming = claimed.catch(() => undefined);
    return claimed;
  };
  const work = async (worker: Kysely<DB>) => {
    try {
      for (let range = await claim(worker); range !== undefined; range = await claim(worker)) {
        const { from, to } = range;
        if (range.cells === 1 && range.events > slice) {
          await foldInSlices(worker, to, slice, () => progress(cells));
          cells += 1;
          progress(cells);
          continue;
        }
        const { rows } = await worker.transaction().execute(async (trx) => {
          // A range of keys of the work table, read down its index: estimated from its first column
          // alone, a range can look like a large share of the table and be planned as a scan of it.
          await sql`set local enable_seqscan = off`.execute(trx);
          return sql<{ applied: string }>`
            select apply_to_cell(w.program_id, w.milestone, w.consortium_id, w.ids)::text as applied
            from (
              select c.program_id, c.milestone, c.consortium_id, array_agg(c.event_id order by c.recorded_at, c.event_position) as ids
              from ${table} c
              where (c.program_id, c.milestone, c.consortium_id) > (${from.program}, ${from.milestone}, ${from.consortium})
                and (c.program_id, c.milestone, c.consortium_id) <= (${to.program}, ${to.milestone}, ${to.consortium})
              group by c.program_id, c.milestone, c.consortium_id
            ) w`.execute(trx);
        });
        cells += rows.length;
        progress(cells);
      }
    } catch (error) {
      stop = true;
      throw error;
    }
  };
  // Another worker's connection, set up as the rebuild's own. Should it fail to open, the others stop too.
  const another = async () => {
    try {
      await db.connection().execute((other) => exemptFromFeedHorizon(other, () => inRebuildSession(other, () => work(other))));
    } catch (error) {
      stop = true;
      throw error;
    }
  };
  const others = Array.from({ length: Math.max(0, workers - 1) }, another);
  const outcomes = await Promise.allSettled([work(conn), ...others]);
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * Folds the history of one cell holding more than a slice of events, a slice of about `sliceSize`
 * events per transaction, in recording order, never cutting an append (one recorded_at):
 * apply_to_cell.sql folds each slice as it would the batches of appends come one after another.
 * One transaction per cell held a busy cell's lock-free work for minutes, and with it the vacuum of
 * this database's tables, and the rebuild said nothing meanwhile; `folded` is told after each slice.
 */
async function foldInSlices<DB>(worker: Kysely<DB>, cell: CellKey, sliceSize: number, folded: () => void): Promise<void> {
  const table = sql.table(`${REBUILD_SCHEMA}.${CELL_EVENT}`);
  const ofCell = sql`(c.program_id, c.milestone, c.consortium_id) = (${cell.program}, ${cell.milestone}, ${cell.consortium})`;
  // Past the recording of the last slice folded (text: a Date would drop the microseconds).
  let after = '-infinity';
  for (;;) {
    const { rows } = await worker.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      return sql<{ last: string | null; more: boolean }>`
        with bound as (
          select c.recorded_at from ${table} c
          where ${ofCell} and c.recorded_at > ${after}::timestamptz
          order by c.recorded_at, c.event_position
          offset ${sliceSize - 1} limit 1
        ), slice as materialized (
          select c.event_id, c.recorded_at, c.event_position from ${table} c
          where ${ofCell} and c.recorded_at > ${after}::timestamptz
            and c.recorded_at <= coalesce((select b.recorded_at from bound b), 'infinity')
        )
        select apply_to_cell(${cell.program}, ${cell.milestone}, ${cell.consortium},
                             (select array_agg(s.event_id order by s.recorded_at, s.event_position) from slice s)) is null as applied,
               (select max(s.recorded_at)::text from slice s) as last,
               exists (select 1 from bound) as more`.execute(trx);
    });
    const row = rows[0];
    if (row === undefined || row.last === null) return;
    after = row.last;
    folded();
    if (!row.more) return;
  }
}

/**
 * A fold chunk holds about as many events as a read chunk, and at most this many times fewer cells:
 * so that a chunk of many small cells (a handful of events each) stays a short transaction.
 */
const CELL_CHUNK_DIVISOR = 10;

/**
 * The most events of one cell folded in one transaction. A late event supersedes the steps after it
 * (supersede_steps.sql), whose index entries a later re-fold passes again until the versions they
 * point at are dead to every transaction: in the transaction that superseded them, never. So a cell
 * fed out of order, folded in one transaction, read back every version it had written at each re-fold,
 * a cost of the cube of its events: on PostgreSQL, a cell of 1,000 events spread over eight days in
 * random order rebuilt in 46–51 s in one transaction, in 15–22 s in slices of 20 to 200, 17–18 s in
 * slices of 100 (a scratch test, 2026-12-07); on the embedded database one of 2,200 events did not
 * finish in 19 minutes, nor stop for a signal, which the process sees only between statements
 * (found by the probe of the embedded database). On the scale bench's history of 200k events the
 * rebuild took as long either way (16.5–21.0 s against 19.4–19.9, alternating). The catch-up rounds
 * and the switch still fold what came meanwhile a chunk per transaction, each cell's part in one
 * call: a cell that got hundreds of late events during the rebuild pays that cost there (the review
 * of 2026-12-07; not measured).
 */
const CELL_SLICE = 100;

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

/** At most this many rounds: writers that record faster than a round folds would hold the switch off for ever. */
const CATCH_UP_ROUNDS = 10;
/** A round that folded fewer events than this, in less time than this, ends the catch-up. */
const SMALL_BACKLOG = 1000;
const SHORT_ROUND_MS = 1000;
/** A round this many times as long as the one before is growing: the catch-up will not converge. */
const GROWING = 1.25;

async function currentSnapshot<DB>(conn: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ snapshot: string }>`select pg_current_snapshot()::text as snapshot`.execute(conn);
  return rows[0]?.snapshot ?? '';
}

/**
 * Folds the events committed after `since` was taken (and, with `until`, before it was taken), in
 * position order, in slices run by `run` (each in a transaction of its own, or all in the switch's):
 * an index range on transaction ids, never a scan of the log. Within a cell, an event committed
 * later also took the cell's lock later, so it has a greater position.
 */
async function foldCommittedSince<DB>(
  db: Kysely<DB>,
  since: string,
  until: string | undefined,
  chunkSize: number,
  run: (slice: (trx: Kysely<DB>) => Promise<unknown>) => Promise<unknown>,
): Promise<number> {
  const { rows } = await sql<{ id: string; tx: string }>`
    select id, tx::text as tx from event
    where tx >= pg_snapshot_xmin(${since}::pg_snapshot) and not pg_visible_in_snapshot(tx, ${since}::pg_snapshot)
      ${until === undefined ? sql`` : sql`and pg_visible_in_snapshot(tx, ${until}::pg_snapshot)`}
    order by position`.execute(db);
  for (const slice of slicesBetweenAppends(rows, chunkSize)) {
    await run((trx) => sql`select project_events(${slice.map((r) => r.id)}::uuid[])`.execute(trx));
  }
  return rows.length;
}

/**
 * Cuts events in position order into slices of about `size`, never through an append (one
 * transaction): an append's events are one batch to the fold, and a batch folded in two parts
 * would leave a version superseded the moment it was written.
 */
export function slicesBetweenAppends<T extends { readonly tx: string }>(rows: readonly T[], size: number): T[][] {
  const lastOf = new Map(rows.map((row, index) => [row.tx, index]));
  const slices: T[][] = [];
  let slice: T[] = [];
  let reach = -1;
  rows.forEach((row, index) => {
    if (slice.length >= size && index > reach) {
      slices.push(slice);
      slice = [];
    }
    slice.push(row);
    reach = Math.max(reach, lastOf.get(row.tx) ?? index);
  });
  if (slice.length > 0) slices.push(slice);
  return slices;
}
