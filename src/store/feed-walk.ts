import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.js';
import type { FeedCursor } from './feed-cursor.js';
import { PREPARED } from './prepared-statement.js';

/*
 * A page of a feed (the events, event-store.ts readFeed; the notifications, notifications.ts
 * readNotifications). Filtered, its keys (tx, position) are read by walks of the filters' indexes
 * in the feed's order, then its rows by position. Walking the feed and dropping what the
 * filter rejects, or reading all of a program's rows and sorting them, cost what the filter's
 * history holds (migrations 2026-12-04T19-30-00 and 2026-12-04T20-00-00).
 */

/**
 * One walk of the index (key, tx, position): rows `k` whose `key` column equals `value`, past the
 * cursor, below the oldest running transaction (the feed's horizon), in the feed's order, at most
 * `limit`. The key's bounds are the row comparison past the cursor, where the scan starts, and
 * `key <= value`, where it stops: with `key = value` besides, PostgreSQL 15 started at the key's
 * first entry and tested each up to the cursor, a cost that grew with the key's history. Ordered by
 * the index's own columns, so that no plan takes the feed's index (tx, position) instead and tests
 * each row's key (with statistics, one did for a common type, test/http/bounded-pages.test.ts). The
 * horizon only filters: past it, a walk reads to the end of the key, what was appended since the
 * oldest running transaction began.
 */
const feedWalk = (
  table: RawBuilder<unknown>,
  key: RawBuilder<unknown>,
  value: RawBuilder<unknown>,
  from: FeedCursor,
  more: readonly RawBuilder<unknown>[],
  limit: number,
): RawBuilder<unknown> => sql`
  select k.tx, k.position from ${table} k
  where ${key} <= ${value} and (${key}, k.tx, k.position) > (${value}, ${from.tx}::xid8, ${from.position}::bigint)
    and ${sql.join([BELOW_HORIZON, ...more], sql` and `)}
  order by ${key}, k.tx, k.position limit ${limit}`;

/**
 * Whether a feed's cursor names a transaction below every one this database has yet to complete
 * (the snapshot's xmax), as every cursor it issues does. One past them comes from
 * another database (one with more transactions behind it) or from before this one was restored
 * from a backup: read, it would give nothing until the transaction ids caught up with it, then
 * skip for good whatever had committed meanwhile below it.
 */
export async function isReachedCursor(db: Db, cursor: FeedCursor): Promise<boolean> {
  const { rows } = await sql<{ reached: boolean }>`select ${cursor.tx}::xid8 < pg_snapshot_xmax(pg_current_snapshot()) as reached`.execute(db);
  return rows[0]?.reached === true;
}

/** What a cursor past every transaction of the database is told (isReachedCursor). */
export const UNREACHED_CURSOR =
  'names a transaction this database has not reached: it was issued by another database, or before a restore from a backup; read again from the start, without a cursor';

/**
 * Rows `k` of transactions older than every running one that may still add to the feed: the feed's
 * horizon (db/functions/feed_horizon.sql; event-store.ts readFeed says why), read once a statement.
 */
const BELOW_HORIZON = sql`k.tx < (select feed_horizon())`;

export interface PageFilter {
  readonly table: 'event' | 'notification';
  /** Columns the page may be filtered by, the one whose index a walk takes first, with the value asked for. */
  readonly keys: readonly (readonly [column: string, value: string | undefined])[];
  /** The column of a row's kind (type, topic), and the kinds asked for: none, every kind. */
  readonly kind: string;
  readonly kinds: readonly string[];
  /** What every row of the page must be besides, on rows `k`. */
  readonly more: readonly RawBuilder<unknown>[];
}

/**
 * The keys of a filtered page: one walk of the index of the first key given, the other keys and the
 * kinds a filter on it; or, for kinds alone, one walk a kind, merged. Undefined when nothing filters
 * the page.
 */
function pageKeys(filter: PageFilter, from: FeedCursor, limit: number): RawBuilder<unknown> | undefined {
  const table = sql.table(filter.table);
  const kind = sql.ref(`k.${filter.kind}`);
  const [driver, ...others] = filter.keys.flatMap(([column, value]) => (value === undefined ? [] : [{ column: sql.ref(`k.${column}`), value }]));
  if (driver !== undefined) {
    const more = [
      ...filter.more,
      ...others.map((o) => sql`${o.column} = ${o.value}`),
      ...(filter.kinds.length === 0 ? [] : [sql`${kind} = any (${filter.kinds}::text[])`]),
    ];
    return feedWalk(table, driver.column, sql`${driver.value}`, from, more, limit);
  }
  if (filter.kinds.length === 0) return undefined;
  return sql`
    select w.tx, w.position from unnest(${filter.kinds}::text[]) as t(kind)
    cross join lateral (${feedWalk(table, kind, sql.ref('t.kind'), from, filter.more, limit)}) w
    order by w.tx, w.position limit ${limit}`;
}

/**
 * A page of the feed: its rows, with `columns` and the transaction id as text (`tx`), in the feed's
 * order. Filtered, it is prepared, without sorts (MARKED_PLANNER_SETTINGS): left to choose for its
 * parameters, PostgreSQL read a small program's events by a bitmap and sorted them; each row is
 * then read by its position, a look-up by key (LIMIT keeps the subquery from being joined by a
 * hash of the table). Unfiltered, it is one walk of (tx, position), planned for its cursor each
 * time: near the head or far behind it.
 */
export async function readFeedPage<R>(db: Db, filter: PageFilter, columns: readonly string[], from: FeedCursor, limit: number): Promise<R[]> {
  const table = sql.table(filter.table);
  const fieldsOf = (alias: string) => sql.join(columns.map((column) => sql.ref(`${alias}.${column}`)));
  const keys = pageKeys(filter, from, limit);
  if (keys === undefined) {
    const { rows } = await sql<R>`
      select ${fieldsOf('k')}, k.tx::text as tx from ${table} k
      where (k.tx, k.position) > (${from.tx}::xid8, ${from.position}::bigint) and ${sql.join([BELOW_HORIZON, ...filter.more], sql` and `)}
      order by k.tx, k.position limit ${limit}`.execute(db);
    return rows;
  }
  const { rows } = await sql<R>`
    select x.* from (${keys}) p
    cross join lateral (select ${fieldsOf('r')}, r.tx::text as tx from ${table} r where r.position = p.position limit 1) x
    order by p.tx, p.position ${PREPARED}`.execute(db);
  return rows;
}
