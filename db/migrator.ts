import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { appliedFunctionsDigest, applyFunctions, functionsDigest } from './functions.js';
import { migrationProvider } from './migrations.js';
import { dropRetiredIndexes, type RetiredIndexLeft } from './retired-indexes.js';
import { forgetWithdrawnMigrations, isWithdrawnMigration } from './withdrawn-migrations.js';
import { PROJECTION_LOCK } from '../src/store/projection-lock.js';
import { readModelNeedsRebuild, rebuildReadModelIfPending } from '../src/store/read-model-rebuild.js';

const migratorFor = <DB>(db: Kysely<DB>) => new Migrator({ db, provider: migrationProvider });

/**
 * Kysely's outcome of the migrations; whether this run wrote the functions and the catalogue's
 * rules (under the projection lock), or found them in place; and the retired indexes this start
 * could not drop (for a warning).
 */
export interface MigrationOutcome extends MigrationResultSet {
  readonly functionsWritten: boolean;
  readonly retiredIndexesLeft: readonly RetiredIndexLeft[];
}

/**
 * Applies every pending migration, then the functions of db/functions and the catalogue's rules,
 * unless the database holds them all already (isUpToDate); drops the indexes no longer read
 * (retired-indexes.ts); rebuilds the read model when a migration asked for it
 * (read_model_status.rebuild_pending). Safe when several instances start at once: Kysely's migrator
 * serialises them on a lock row, and the functions are applied under a lock of their own.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationOutcome> {
  // A database that cannot answer says why in the migration below.
  const state = await migrationState(db).catch(() => undefined);
  if (state !== undefined && state.unknown.length > 0) {
    return { error: new NewerDatabaseError(state.unknown), results: [], functionsWritten: false, retiredIndexesLeft: [] };
  }
  const upToDate = state !== undefined && (await isUpToDate(db, state));
  const migrated = upToDate ? { results: [] } : await migrateHoldingProjectionLock(db);
  const result = { ...migrated, functionsWritten: !upToDate && migrated.error === undefined };
  if (result.error !== undefined) return { ...result, retiredIndexesLeft: [] };
  const retiredIndexesLeft = await dropRetiredIndexes(db);
  try {
    // Checked here first so that an instance starting beside an operator's rebuild does not wait for
    // it; checked again under the rebuild's lock, which another starting instance may hold.
    if (await readModelNeedsRebuild(db)) await rebuildReadModelIfPending(db);
  } catch (error) {
    return { ...result, error, retiredIndexesLeft };
  }
  return { ...result, retiredIndexesLeft };
}

/**
 * Whether the database has every migration and this release's functions already: then an instance
 * starting (another of a rolling restart, or one restarted) changes nothing, and does not take the
 * projection lock. Taken exclusively, it waited for every append in flight, and every append that
 * came meanwhile waited behind it: as long as the slowest, a late fact re-folding a busy cell for
 * seconds. A database that cannot answer is not up to date: the migration says why.
 */
async function isUpToDate<DB>(db: Kysely<DB>, state: MigrationState): Promise<boolean> {
  try {
    if (state.pending.length > 0 || state.withdrawn.length > 0) return false;
    return (await appliedFunctionsDigest(db)) === (await functionsDigest());
  } catch {
    return false;
  }
}

async function migrateHoldingProjectionLock<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  // The service's statement timeout is for its requests: a migration rewriting a large table must
  // not be cancelled by it. The service runs this on connections without it (OpenDatabase.unbounded);
  // one connection, with the timeout lifted for its session whatever the caller's, runs them all.
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    // No append runs between the migrations and the functions that go with them: an append takes
    // the projection lock shared first (lock_projection.sql), so it waits here until both are in,
    // rather than folding with the previous release's functions into the new tables.
    try {
      await sql`select pg_advisory_lock(${PROJECTION_LOCK})`.execute(connection);
      await forgetWithdrawnMigrations(connection);
      const migrated = await migratorFor(connection).migrateToLatest();
      if (migrated.error === undefined) await applyFunctions(connection);
      return migrated;
    } catch (error) {
      return { error };
    } finally {
      await sql`select pg_advisory_unlock(${PROJECTION_LOCK})`.execute(connection).catch(() => {});
      await sql`reset statement_timeout`.execute(connection).catch(() => {});
    }
  });
}

/**
 * A database that a newer release has migrated: this release refuses to start on it, with this
 * message, since its code may not fit what those migrations changed. Kysely's migrator stopped it
 * too, with a stack and the word "corrupted" (found by the probe of the upgrade path).
 */
export class NewerDatabaseError extends Error {
  constructor(readonly unknownMigrations: readonly string[]) {
    super(
      `this database has been migrated by a newer release of milestone-ledger (${unknownMigrations.join(', ')}: ` +
        'unknown to this release); run that release or a later one. This one does not start on it, since its code may not ' +
        'fit what those migrations changed; to go back to it, restore a backup taken before the upgrade',
    );
  }
}

/**
 * The migrations of this release not applied to the database yet, those applied there that this
 * release does not have, and those applied there that were withdrawn (withdrawn-migrations.ts).
 */
interface MigrationState {
  readonly pending: readonly string[];
  readonly unknown: readonly string[];
  readonly withdrawn: readonly string[];
}

/**
 * Both, in name order, from one read of Kysely's own table. Not through Kysely's migrator: it first
 * reads the columns of every table of the database, looking each up by name, and fails on one that
 * a rebuild drops meanwhile; /readyz asks this often.
 */
async function migrationState<DB>(db: Kysely<DB>): Promise<MigrationState> {
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const { rows: present } = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  if (present[0]?.present !== true) return { pending: known, unknown: [], withdrawn: [] };
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  const applied = new Set(rows.map((r) => r.name));
  const ours = new Set(known);
  const notOurs = [...applied].filter((name) => !ours.has(name));
  return {
    pending: known.filter((name) => !applied.has(name)),
    unknown: notOurs.filter((name) => !isWithdrawnMigration(name)),
    withdrawn: notOurs.filter(isWithdrawnMigration),
  };
}

/** Names of the migrations not yet applied to this database, in name order. */
export async function pendingMigrations<DB>(db: Kysely<DB>): Promise<readonly string[]> {
  return (await migrationState(db)).pending;
}
