import { sql } from 'kysely';
import { topicsMatching, type Notification } from '../domain/notification.js';
import type { Db } from './database.js';
import { findEventsByIds } from './event-store.js';
import { cursorBefore, encodeCursor, FEED_START, type FeedCursor } from './feed-cursor.js';
import { readFeedPage, type PageFilter } from './feed-walk.js';

export interface NotificationFilter {
  /** Topic patterns (see Topic); none means every topic. */
  readonly topics?: readonly string[] | undefined;
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  /**
   * A pg_snapshot (text form): leave out the notifications whose transaction it saw committed.
   * A feed that starts `now` skips so what was already there above its starting cursor.
   */
  readonly notVisibleIn?: string | undefined;
}

/** Where a feed that starts now begins, and what it must then skip; see readFeedNow. */
export interface FeedNow {
  readonly cursor: FeedCursor;
  readonly snapshot: string;
}

export interface NotificationPage {
  readonly notifications: readonly (Notification & { readonly cursor: string })[];
  readonly nextCursor: string;
}

const NOTIFICATION_COLUMNS = ['position', 'id', 'topic', 'event_id', 'data', 'created_at'] as const;

/**
 * Notifications after `after`, in the order the event feed uses: only those whose transaction is
 * older than every running one, by (tx, position), so a reader never skips a late commit. Test
 * pings belong to one subscription and are never listed. Filtered by topics, program or consortium,
 * a page walks the indexes of its filters (feed-walk.ts, readFeedPage).
 */
export async function readNotifications(db: Db, after: FeedCursor | undefined, limit: number, filter: NotificationFilter): Promise<NotificationPage> {
  const from = after ?? FEED_START;
  const topics = topicsMatching(filter.topics === undefined || filter.topics.length === 0 ? ['*'] : filter.topics);
  // Listed to everyone, and not seen by the snapshot of a feed that started now.
  const more = [
    sql`k.only_subscription is null`,
    ...(filter.notVisibleIn === undefined ? [] : [sql`not pg_visible_in_snapshot(k.tx, ${filter.notVisibleIn}::pg_snapshot)`]),
  ];
  const keys = [
    ['consortium_id', filter.consortiumId],
    ['program_id', filter.programId],
  ] as const;
  const page: PageFilter = { table: 'notification', keys, kind: 'topic', kinds: topics ?? [], more };
  const rows = await readFeedPage<NotificationRow & { readonly tx: string }>(db, page, NOTIFICATION_COLUMNS, from, limit);
  const notifications = (await withEvents(db, rows)).map(({ row, notification }) => ({
    ...notification,
    cursor: encodeCursor('feed', { tx: row.tx, position: row.position }),
  }));
  return { notifications, nextCursor: notifications.at(-1)?.cursor ?? encodeCursor('feed', from) };
}

/**
 * "Now" in the feed's order. Readers see notifications by (tx, position) below the oldest running
 * transaction that may still add one (the horizon, db/functions/feed_horizon.sql), so no cursor
 * alone can split the present: a transaction still running may have a smaller tx than one already
 * committed, and commit later. So now is the snapshot taken here: the cursor is set just below the
 * horizon read with it, which passes everything of older transactions (all ended, so all visible or
 * never to be, or adding none), and the snapshot leaves out what it saw committed above that. A notification committed after this moment is invisible in the snapshot
 * and is never skipped; the max cursor visible now would skip one from an older transaction that
 * commits later.
 */
export async function readFeedNow(db: Db): Promise<FeedNow> {
  const { rows } = await sql<{ snapshot: string; xmin: string }>`
    select s::text as snapshot, feed_horizon()::text as xmin from pg_current_snapshot() s`.execute(db);
  const row = rows[0];
  if (row === undefined) throw new Error('pg_current_snapshot() returned no row');
  return { cursor: cursorBefore(row.xmin), snapshot: row.snapshot };
}

/** The notifications with these ids, with their events: what a delivery sends. */
export async function findNotifications(db: Db, ids: readonly string[]): Promise<Map<string, Notification>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('notification as n').select(NOTIFICATION_COLUMNS.map((c) => `n.${c}` as const)).where('n.id', 'in', ids).execute();
  return new Map((await withEvents(db, rows)).map(({ notification }) => [notification.id, notification]));
}

interface NotificationRow {
  readonly position: string;
  readonly id: string;
  readonly topic: string;
  readonly event_id: string | null;
  readonly data: Record<string, unknown> | null;
  readonly created_at: Date;
}

/** Each row with its notification, the events they carry read in one query. */
async function withEvents<R extends NotificationRow>(db: Db, rows: readonly R[]): Promise<{ row: R; notification: Notification }[]> {
  const events = await findEventsByIds(db, rows.flatMap((r) => (r.event_id === null ? [] : [r.event_id])));
  return rows.map((row) => ({
    row,
    notification: {
      id: row.id,
      position: Number(row.position),
      topic: row.topic,
      createdAt: row.created_at,
      event: row.event_id === null ? undefined : events.get(row.event_id),
      data: row.data ?? undefined,
    },
  }));
}

/** A ping for one subscription: a notification of its own, fanned out to that subscription alone. */
export async function insertTestPing(db: Db, subscriptionId: string, data: Record<string, unknown>): Promise<string> {
  const row = await db
    .insertInto('notification')
    // Time-ordered, as every notification's id, to keep the id index to its right edge (db/functions/uuid_v7.sql).
    .values({ id: sql<string>`uuid_v7()`, topic: 'webhook.test', event_id: null, program_id: null, consortium_id: null, data: JSON.stringify(data), only_subscription: subscriptionId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
