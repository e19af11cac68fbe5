import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

/**
 * Resolves once every transaction of this database that had been given an id when it was called,
 * and may still add to the feeds, has ended. The feeds (GET /v1/events, GET /v1/feed) read only
 * below the oldest such transaction still running (db/functions/feed_horizon.sql), so that a late
 * commit is never skipped; another test of this file with a transaction open holds back what this
 * one has just committed, for as long as it stays open. After this, a feed read shows everything
 * committed before the call, which is what a test reading right after its own writes means to check.
 */
export async function waitForFeedHorizon(db: Db, timeoutMs = 30_000): Promise<void> {
  const { rows } = await sql<{ next: string }>`select pg_snapshot_xmax(pg_current_snapshot())::text as next`.execute(db);
  const next = rows[0]?.next;
  if (next === undefined) throw new Error('pg_current_snapshot() returned no row');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows: passed } = await sql<{ passed: boolean }>`
      select feed_horizon() >= ${next}::xid8 as passed`.execute(db);
    if (passed[0]?.passed === true) return;
    if (Date.now() > deadline) throw new Error(`a transaction older than xid ${next} still runs on the database after ${timeoutMs} ms`);
    await sleep(20);
  }
}
