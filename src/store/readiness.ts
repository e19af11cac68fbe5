import { sql } from 'kysely';
import { pendingMigrations } from '../../db/migrator.js';
import type { Db } from './database.js';

export interface DatabaseReadiness {
  readonly database: boolean;
  readonly migrations: boolean;
}

/** Whether the database answers and has every migration applied; never throws. */
export async function checkDatabaseReadiness(db: Db): Promise<DatabaseReadiness> {
  try {
    await sql`select 1`.execute(db);
  } catch {
    return { database: false, migrations: false };
  }
  const pending = await pendingMigrations(db).catch(() => ['unknown']);
  return { database: true, migrations: pending.length === 0 };
}
