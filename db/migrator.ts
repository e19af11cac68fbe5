import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { migrationProvider } from './migrations.js';

const migratorFor = <DB>(db: Kysely<DB>) => new Migrator({ db, provider: migrationProvider });

/**
 * Applies every pending migration. Safe when several instances start at once: Kysely's migrator
 * serialises them on a lock row and tolerates a concurrent creation of its own tables.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  return migratorFor(db).migrateToLatest();
}

/** Names of the migrations not yet applied to this database. */
export async function pendingMigrations<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrations = await migratorFor(db).getMigrations();
  return migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
