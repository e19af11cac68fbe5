import { inspect } from 'node:util';
import { sql } from 'kysely';
import { NewerDatabaseError, NotAtThisReleaseError } from '../db/migrator.js';
import { ConfigError, describeDatabaseUrl, type Config } from './config.js';
import { DatabaseUnavailableError } from './domain/errors.js';
import { DataDirInUseError, DataDirUnusableError } from './store/data-dir-lock.js';
import { openDatabase, type OpenDatabase } from './store/open-database.js';

/*
 * How the service and its commands (migrate, projections:rebuild) say why they could not start: in
 * a sentence for what the operator can fix (the configuration, the database named, a newer
 * release's database), whole for anything else, which is a defect and needs its stack.
 */

/**
 * The database refused or could not be reached at start (no server, no such database, credentials):
 * a line naming DATABASE_URL and what the server said, rather than a stack that names neither, nor
 * a "retry in a moment" for what waiting does not mend (found by the probe of the upgrade path).
 */
export function unreachable(error: unknown, database: Config['database']): unknown {
  if (!(error instanceof DatabaseUnavailableError) || database.kind !== 'postgres') return error;
  const said = error.cause instanceof Error && error.cause.message !== '' ? error.cause.message : String(error.cause);
  return new ConfigError(`cannot open the database DATABASE_URL names (${describeDatabaseUrl(database.url)}): ${said}`);
}

/**
 * What to print on stderr for an error that stopped a start: the sentence, or the error whole, with
 * what PostgreSQL said beside its message (detail, hint, where: a failing migration's context) and
 * its cause.
 */
export function startupMessage(error: unknown): string {
  const known =
    error instanceof ConfigError ||
    error instanceof DataDirInUseError ||
    error instanceof DataDirUnusableError ||
    error instanceof NewerDatabaseError ||
    error instanceof NotAtThisReleaseError;
  return known ? error.message : inspect(error);
}

/**
 * The database a command (migrate, projections:rebuild) is configured for, opened and answering;
 * else, before the command has done anything, why not, as the service says it (unreachable).
 */
export async function openAnswering(database: Config['database']): Promise<OpenDatabase> {
  const opened = await openDatabase(database);
  try {
    await sql`select 1`.execute(opened.db);
  } catch (error) {
    await opened.db.destroy().catch(() => {});
    throw unreachable(error, database);
  }
  return opened;
}
