import { sql } from 'kysely';
import type { Db } from './database.js';

/*
 * What GET /metrics reads from the database at each scrape. Every query here must stay cheap on a
 * large database: each one is answered from a primary key, a partial index or a small table, except
 * the count of failed deliveries (see readDeliveryQueue).
 */

export interface DeliveryQueue {
  readonly pending: number;
  readonly inFlight: number;
  /** Given up on, kept for redelivery and recovery. */
  readonly failed: number;
  /** How long the longest-waiting due delivery of an active subscription has waited; 0 if none waits. */
  readonly oldestDueSeconds: number;
}

/**
 * The webhook queue. Pending and in-flight counts use their partial indexes; failed deliveries
 * have none, so that count scans the delivery table. Paused and disabled subscriptions are left
 * out of the oldest due delivery: nobody claims their deliveries, and waiting is what they asked for.
 */
export async function readDeliveryQueue(db: Db): Promise<DeliveryQueue> {
  const { rows } = await sql<{ pending: number; in_flight: number; failed: number; oldest_due_seconds: number }>`
    select (select count(*) from webhook_delivery where state = 'pending')::integer as pending,
           (select count(*) from webhook_delivery where state = 'in_flight')::integer as in_flight,
           (select count(*) from webhook_delivery where state = 'failed')::integer as failed,
           coalesce((select extract(epoch from now() - min(d.next_attempt_at))
                     from webhook_delivery d join subscription s on s.id = d.subscription_id
                     where d.state = 'pending' and d.next_attempt_at <= now() and s.status = 'active'), 0)::float8
             as oldest_due_seconds`.execute(db);
  const row = rows[0];
  return {
    pending: row?.pending ?? 0,
    inFlight: row?.in_flight ?? 0,
    failed: row?.failed ?? 0,
    oldestDueSeconds: Math.max(0, row?.oldest_due_seconds ?? 0),
  };
}

export interface FeedLag {
  /** Committed events that feed readers cannot see yet: a transaction older than theirs is still running. */
  readonly heldBackEvents: number;
  /** How long the oldest of them has been recorded; 0 if none is held back. */
  readonly oldestHeldBackSeconds: number;
}

/** The tail of the event feed above the gap-safe horizon of readFeed, read from the (tx, position) index. */
export async function readFeedLag(db: Db): Promise<FeedLag> {
  const { rows } = await sql<{ events: number; seconds: number }>`
    select count(*)::integer as events, coalesce(extract(epoch from now() - min(recorded_at)), 0)::float8 as seconds
    from event where tx >= (select feed_horizon())`.execute(db);
  const row = rows[0];
  return { heldBackEvents: row?.events ?? 0, oldestHeldBackSeconds: Math.max(0, row?.seconds ?? 0) };
}

/**
 * How long the transaction holding the feed horizon back (db/functions/feed_horizon.sql: the
 * oldest running in this database that may still add to the feed) has been running; 0 if none
 * does. Sessions of other roles show no start time unless this role has pg_read_all_stats, and are
 * then left out.
 */
export async function readHorizonAge(db: Db): Promise<number> {
  const { rows } = await sql<{ seconds: number | null }>`
    select extract(epoch from now() - a.xact_start)::float8 as seconds
    from pg_stat_activity a
    where a.backend_xid is not null and a.xact_start is not null
      and a.backend_xid::text::bigint = ((select feed_horizon())::text::bigint & 4294967295)
    limit 1`.execute(db);
  return Math.max(0, rows[0]?.seconds ?? 0);
}

/** Milestone cells by status: the size of the projection (a small table, one row per cell). */
export async function countMilestoneCells(db: Db): Promise<Map<string, number>> {
  const { rows } = await sql<{ status: string; cells: number }>`
    select status, count(*)::integer as cells from milestone_cell group by status`.execute(db);
  return new Map(rows.map((r) => [r.status, r.cells]));
}

/** A place in the notification log, in the (tx, position) order that is safe against late commits. */
export interface NotificationMark {
  readonly tx: string;
  readonly position: string;
}

/** The last notification below the horizon: where counting starts. */
export async function findNotificationMark(db: Db): Promise<NotificationMark | undefined> {
  const { rows } = await sql<NotificationMark>`
    select n.tx::text as tx, n.position::text as position from notification n
    where n.tx < (select feed_horizon())
    -- Qualified: a bare tx would sort by the selected text, and '999' > '1000'.
    order by n.tx desc, n.position desc
    limit 1`.execute(db);
  return rows[0];
}

export interface StatusChangeCount {
  readonly changes: number;
  /** Where the next count starts; `after` itself when nothing new is visible. */
  readonly mark: NotificationMark;
}

/**
 * Status-change notifications after `after` and below the horizon, as the notification feed
 * orders them: a range of the (tx, position) index holding only what arrived since the last count,
 * and a late commit is counted once it becomes visible, never skipped.
 */
export async function countStatusChangesAfter(db: Db, after: NotificationMark): Promise<StatusChangeCount> {
  const { rows } = await sql<{ changes: number; tx: string | null; position: string | null }>`
    with visible as materialized (
      select tx, position, topic from notification
      where (tx, position) > (${after.tx}::xid8, ${after.position}::bigint)
        and tx < (select feed_horizon())
    ), last as (
      select tx, position from visible order by tx desc, position desc limit 1
    )
    select (select count(*) from visible where topic = 'milestone.status_changed')::integer as changes,
           (select tx::text from last) as tx,
           (select position::text from last) as position`.execute(db);
  const row = rows[0];
  const mark = row !== undefined && row.tx !== null && row.position !== null ? { tx: row.tx, position: row.position } : after;
  return { changes: row?.changes ?? 0, mark };
}
