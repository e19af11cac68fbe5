import { sql } from 'kysely';
import { pendingMigrations } from '../../db/migrator.js';
import type { Db } from './database.js';

export interface DatabaseReadiness {
  readonly database: boolean;
  /** Null when the database could not be asked (a probe found "false" read as "migrations missing"). */
  readonly migrations: boolean | null;
}

/** Whether the database answers and has every migration applied; never throws. */
export async function checkDatabaseReadiness(db: Db): Promise<DatabaseReadiness> {
  try {
    await sql`select 1`.execute(db);
  } catch {
    return { database: false, migrations: null };
  }
  const pending = await pendingMigrations(db).catch(() => undefined);
  return { database: true, migrations: pending === undefined ? null : pending.length === 0 };
}
