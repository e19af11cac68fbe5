import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { appliedFunctionsDigest, applyFunctions, functionsDigest } from './functions.js';
import { migrationProvider } from './migrations.js';
import { dropRetiredIndexes, type RetiredIndexLeft } from './retired-indexes.js';
import { forgetWithdrawnMigrations, isWithdrawnMigration } from './withdrawn-migrations.js';
import { PROJECTION_LOCK } from '../src/store/projection-lock.js';
import { readModelNeedsRebuild, rebuildReadModelIfPending, type RebuildProgress, type Rebuilt } from '../src/store/read-model-rebuild.js';

const migratorFor = <DB>(db: Kysely<DB>) => new Migrator({ db, provider: migrationProvider });

/**
 * Kysely's outcome of the migrations; whether this run wrote the functions and the catalogue's
 * rules (under the projection lock), or found them in place; the withdrawn migrations it forgot;
 * what it rebuilt of the read model, if a migration asked for that and this run did it (not
 * another instance's, which it may have waited for); and the retired indexes it could not drop
 * (for a warning). A start says all of it (found missing by the probe of the upgrade path).
 */
export interface MigrationOutcome extends MigrationResultSet {
  readonly functionsWritten: boolean;
  readonly withdrawnForgotten: readonly string[];
  readonly readModelRebuilt: Rebuilt | undefined;
  readonly retiredIndexesLeft: readonly RetiredIndexLeft[];
}

/** What a migration run holding the projection lock did. */
interface LockedMigration extends MigrationResultSet {
  readonly functionsWritten: boolean;
  readonly withdrawnForgotten: readonly string[];
}

/**
 * Applies every pending migration, then the functions of db/functions and the catalogue's rules,
 * unless the database holds them all already (isUpToDate); drops the indexes no longer read
 * (retired-indexes.ts); rebuilds the read model when a migration asked for it
 * (read_model_status.rebuild_pending). Safe when several instances start at once: Kysely's migrator
 * serialises them on a lock row, and the functions are applied under a lock of their own.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, onRebuild: (progress: RebuildProgress) => void = () => {}): Promise<MigrationOutcome> {
  const nothing = { results: [], functionsWritten: false, withdrawnForgotten: [], readModelRebuilt: undefined, retiredIndexesLeft: [] };
  // A database that cannot answer says why in the migration below.
  const state = await migrationState(db).catch(() => undefined);
  if (state !== undefined && state.unknown.length > 0) return { ...nothing, error: new NewerDatabaseError(state.unknown) };
  const upToDate = state !== undefined && (await isUpToDate(db, state));
  const migrated: LockedMigration = upToDate ? { results: [], functionsWritten: false, withdrawnForgotten: [] } : await migrateHoldingProjectionLock(db);
  if (migrated.error !== undefined) return { ...nothing, ...migrated };
  const retiredIndexesLeft = await dropRetiredIndexes(db);
  try {
    // Checked here first so that an instance starting beside an operator's rebuild does not wait for
    // it; checked again under the rebuild's lock, which another starting instance may hold.
    const readModelRebuilt = (await readModelNeedsRebuild(db)) ? await rebuildReadModelIfPending(db, onRebuild) : undefined;
    return { ...migrated, readModelRebuilt, retiredIndexesLeft };
  } catch (error) {
    return { ...migrated, error, readModelRebuilt: undefined, retiredIndexesLeft };
  }
}

/**
 * Whether the database has every migration and this release's functions already: then an instance
 * starting (another of a rolling restart, or one restarted) changes nothing, and does not take the
 * projection lock. Taken exclusively, it waited for every append in flight, and every append that
 * came meanwhile waited behind it: as long as the slowest, a late fact re-folding a busy cell for
 * seconds. A database that cannot answer is not up to date: the migration says why.
 */
function isUpToDate<DB>(db: Kysely<DB>, state: MigrationState): Promise<boolean> {
  return isAtThisRelease(db, state).catch(() => false);
}

/** Every migration of this release applied, none withdrawn still recorded, and this release's functions; throws if the digest cannot be read. */
async function isAtThisRelease<DB>(db: Kysely<DB>, state: MigrationState): Promise<boolean> {
  if (state.pending.length > 0 || state.withdrawn.length > 0) return false;
  return (await appliedFunctionsDigest(db)) === (await functionsDigest());
}

async function migrateHoldingProjectionLock<DB>(db: Kysely<DB>): Promise<LockedMigration> {
  // The service's statement timeout is for its requests: a migration rewriting a large table must
  // not be cancelled by it. The service runs this on connections without it (OpenDatabase.unbounded);
  // one connection, with the timeout lifted for its session whatever the caller's, runs them all.
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    // No append runs between the migrations and the functions that go with them: an append takes
    // the projection lock shared first (lock_projection.sql), so it waits here until both are in,
    // rather than folding with the previous release's functions into the new tables.
    // What is done is said even when a later step fails: the rows forgotten are committed, and so
    // are the migrations Kysely applied before one failed (the review of the start log).
    let withdrawnForgotten: readonly string[] = [];
    let migrated: MigrationResultSet = {};
    try {
      await sql`select pg_advisory_lock(${PROJECTION_LOCK})`.execute(connection);
      // Looked at again once the lock is held: instances starting together all found the database
      // behind, and each, in turn, wrote every function again, holding appends each time, and said
      // it had (found by the probe of the upgrade path); and a newer release may have migrated it meanwhile.
      const state = await migrationState(connection);
      if (state.unknown.length > 0) return { results: [], error: new NewerDatabaseError(state.unknown), functionsWritten: false, withdrawnForgotten };
      if (await isUpToDate(connection, state)) return { results: [], functionsWritten: false, withdrawnForgotten };
      withdrawnForgotten = await forgetWithdrawnMigrations(connection);
      migrated = await migratorFor(connection).migrateToLatest();
      if (migrated.error !== undefined) return { ...migrated, functionsWritten: false, withdrawnForgotten };
      await applyFunctions(connection);
      return { ...migrated, functionsWritten: true, withdrawnForgotten };
    } catch (error) {
      return { ...migrated, error, functionsWritten: false, withdrawnForgotten };
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
 * A database this release has not brought up to itself: migrations of its own not applied, withdrawn
 * ones still recorded, or another release's functions. Its rebuild refuses it, since it would fold
 * with functions that may not fit the tables (until 2026-12-06 it failed with a stack on a database
 * not migrated, and rebuilt one a newer release had migrated; found by the probe of the upgrade path).
 */
export class NotAtThisReleaseError extends Error {
  constructor(state: MigrationState) {
    const behind = [
      state.pending.length > 0 && `${state.pending.length} of its migrations not applied (the first ${state.pending[0] ?? ''})`,
      state.withdrawn.length > 0 && `migrations since withdrawn still recorded (${state.withdrawn.join(', ')})`,
    ].filter((said) => typeof said === 'string');
    super(
      `this database is not at this release of milestone-ledger: ${behind.length > 0 ? behind.join(', and ') : 'its functions are another release\'s'}; ` +
        'bring it up to this release first (npm run migrate, or start the service), then rebuild',
    );
  }
}

/**
 * Why this release's tools must not work on the database, if they must not: a newer release
 * migrated it (NewerDatabaseError), or this one has not brought it up to itself (NotAtThisReleaseError).
 */
export async function otherReleaseError<DB>(db: Kysely<DB>): Promise<Error | undefined> {
  const state = await migrationState(db);
  if (state.unknown.length > 0) return new NewerDatabaseError(state.unknown);
  // Not isUpToDate, which takes any failure for "behind": one of reading the digest is said as it is.
  return (await isAtThisRelease(db, state)) ? undefined : new NotAtThisReleaseError(state);
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
