import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { pendingMigrations } from '../../db/migrator.js';
import type { Db } from './database.js';

export interface DatabaseReadiness {
  readonly database: boolean;
  /** Null when the database could not be asked (a probe found "false" read as "migrations missing"). */
  readonly migrations: boolean | null;
}

/**
 * How long the check waits for the database: a readiness probe must fail fast. Without a limit of
 * its own it took the statement timeout and its margin, 20 s, when the database stopped answering
 * (found by the probe of the metrics). The statement it gave up on still holds its connection until
 * the pool's own deadline.
 */
export const READINESS_TIMEOUT_MS = 2000;

/** Whether the database answers, within READINESS_TIMEOUT_MS, and has every migration applied; never throws. */
export async function checkDatabaseReadiness(db: Db, timeoutMs = READINESS_TIMEOUT_MS): Promise<DatabaseReadiness> {
  const timer = new AbortController();
  const late = sleep(timeoutMs, 'late' as const, { signal: timer.signal }).catch(() => 'late' as const);
  try {
    const answered = await Promise.race([sql`select 1`.execute(db).then(() => 'answered' as const), late]);
    if (answered === 'late') return { database: false, migrations: null };
    const pending = await Promise.race([pendingMigrations(db).catch(() => undefined), late]);
    return { database: true, migrations: pending === 'late' || pending === undefined ? null : pending.length === 0 };
  } catch {
    return { database: false, migrations: null };
  } finally {
    timer.abort();
  }
}
