import { sql, type RawBuilder } from 'kysely';
import type { FeedCursor } from './feed-cursor.js';

/**
 * The bounds of a filtered page's walk, rows `k` whose `key` column equals `value`, past the cursor
 * and below the oldest running transaction (the feed's horizon, event-store.ts readFeed), written on
 * the key's index columns (key, tx, position) only. Written on tx alone, they let a plan take the
 * feed's own index (tx, position) for a range, walk it and test each row's key: with statistics, PostgreSQL
 * did so for a common type, reading the whole feed for a page (test/http/bounded-pages.test.ts).
 */
export const walkBounds = (key: RawBuilder<unknown>, value: RawBuilder<unknown>, from: FeedCursor): RawBuilder<unknown>[] => [
  sql`${key} = ${value}`,
  sql`(${key}, k.tx, k.position) > (${value}, ${from.tx}::xid8, ${from.position}::bigint)`,
  sql`(${key}, k.tx) < (${value}, pg_snapshot_xmin(pg_current_snapshot()))`,
];
