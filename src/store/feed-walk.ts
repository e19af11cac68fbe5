import { sql, type RawBuilder } from 'kysely';
import type { FeedCursor } from './feed-cursor.js';

/**
 * A filtered page's walk of the index (key, tx, position): rows `k` whose `key` column equals
 * `value`, past the cursor, below the oldest running transaction (the feed's horizon,
 * event-store.ts readFeed), in the feed's order, at most `limit`. The key's bounds are the row
 * comparison past the cursor, where the scan starts, and `key <= value`, where it stops: with
 * `key = value` besides, PostgreSQL 15 started at the key's first entry and tested each up to the
 * cursor, a cost that grew with the key's history. Ordered by the index's own columns, so that no
 * plan takes the feed's index (tx, position) instead and tests each row's key (with statistics,
 * one did for a common type, test/http/bounded-pages.test.ts). The horizon only filters: past it,
 * a walk reads to the end of the key, what was appended since the oldest running transaction began.
 */
export const feedWalk = (
  table: RawBuilder<unknown>,
  key: RawBuilder<unknown>,
  value: RawBuilder<unknown>,
  from: FeedCursor,
  more: readonly RawBuilder<unknown>[],
  limit: number,
): RawBuilder<unknown> => sql`
  select k.tx, k.position from ${table} k
  where ${key} <= ${value} and (${key}, k.tx, k.position) > (${value}, ${from.tx}::xid8, ${from.position}::bigint)
    and ${sql.join([sql`k.tx < pg_snapshot_xmin(pg_current_snapshot())`, ...more], sql` and `)}
  order by ${key}, k.tx, k.position limit ${limit}`;
