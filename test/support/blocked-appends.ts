import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

/**
 * The backends of this database running an append that waits for a lock, once there are `count` of
 * them, the earliest started first. Asked on a connection outside the lock-holding transaction,
 * which would keep seeing its first snapshot.
 */
export async function appendsWaitingForLock(db: Db, count: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await sql<{ pid: number }>`
      select pid from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and query like '%append_events%'
       order by query_start, pid`.execute(db);
    if (rows.length >= count) return rows.map((r) => r.pid);
    if (Date.now() > deadline) throw new Error(`${rows.length} appends waiting for a lock, not ${count}`);
    await sleep(20);
  }
}
