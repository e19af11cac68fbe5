import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

/**
 * Resolves once every transaction that had been given an id when it was called has ended, anywhere on
 * the database server. The feeds (GET /v1/events, GET /v1/feed) read only below the oldest transaction
 * still running on the whole server, so that a late commit is never skipped; on a server shared with
 * test files running in parallel, another file's open transaction holds back what this one has just
 * committed, for as long as it stays open. After this, a feed read shows everything committed before
 * the call, which is what a test reading right after its own writes means to check.
 */
export async function waitForFeedHorizon(db: Db, timeoutMs = 30_000): Promise<void> {
  const { rows } = await sql<{ next: string }>`select pg_snapshot_xmax(pg_current_snapshot())::text as next`.execute(db);
  const next = rows[0]?.next;
  if (next === undefined) throw new Error('pg_current_snapshot() returned no row');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows: passed } = await sql<{ passed: boolean }>`
      select pg_snapshot_xmin(pg_current_snapshot()) >= ${next}::xid8 as passed`.execute(db);
    if (passed[0]?.passed === true) return;
    if (Date.now() > deadline) throw new Error(`a transaction older than xid ${next} still runs on the server after ${timeoutMs} ms`);
    await sleep(20);
  }
}
