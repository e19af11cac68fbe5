import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { migrationProvider } from './migrations.js';

const migratorFor = <DB>(db: Kysely<DB>) => new Migrator({ db, provider: migrationProvider });

/**
 * Applies every pending migration. Safe when several instances start at once: Kysely's migrator
 * serialises them on a lock row and tolerates a concurrent creation of its own tables.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  // The service's statement timeout is for its requests: a migration rewriting a large table must
  // not be cancelled by it. One connection, with the timeout lifted for its session, runs them all.
  return db.connection().execute(async (connection) => {
    await sql`set statement_timeout = 0`.execute(connection);
    try {
      return await migratorFor(connection).migrateToLatest();
    } finally {
      await sql`reset statement_timeout`.execute(connection).catch(() => {});
    }
  });
}

/** Names of the migrations not yet applied to this database. */
export async function pendingMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrations = await migratorFor(db).getMigrations();
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
