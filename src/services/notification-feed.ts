import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnavailableError, InvalidCursorError, StatementTimeoutError } from '../domain/errors.js';
import { toNotificationMessage, type NotificationMessage } from '../domain/notification-message.js';
import type { Db } from '../store/database.js';
import { decodeCursor, encodeCursor, type FeedCursor } from '../store/feed-cursor.js';
import { isReachedCursor, UNREACHED_CURSOR } from '../store/feed-walk.js';
import { readFeedNow, readNotifications, type NotificationFilter } from '../store/notifications.js';

/** The `after` (or Last-Event-ID) that starts a feed after everything committed so far. */
export const FEED_NOW = 'now';

/** Where a feed asked to start now begins. */
export interface FeedStart {
  /**
   * The cursor to follow from; as an SSE id it resumes without loss, though it may repeat a
   * notification that was already there (one committed above the horizon before the start).
   */
  readonly after: string;
  /** What to leave out after it: the snapshot of the start (see readFeedNow for why). */
  readonly notVisibleIn: string;
}

/** The notifications webhooks get, read in order from a cursor, for the live feed (GET /v1/feed). */
export interface NotificationFeed {
  readonly startFeedNow: () => Promise<FeedStart>;
  /**
   * Refuses (InvalidCursorError) a cursor past every transaction of the database (isReachedCursor),
   * before a feed from it starts; with the database out of reach, or no answer within
   * CHECK_WAIT_MS, the feed starts unchecked.
   */
  readonly checkResumePoint: (after: string) => Promise<void>;
  readonly followNotifications: (options: FollowOptions) => AsyncIterable<readonly FeedItem[]>;
}

export function createNotificationFeed(db: Db): NotificationFeed {
  return {
    startFeedNow: startFeedNow.bind(null, db),
    checkResumePoint: checkResumePoint.bind(null, db),
    followNotifications: followNotifications.bind(null, db),
  };
}

async function startFeedNow(db: Db): Promise<FeedStart> {
  const now = await readFeedNow(db);
  return { after: encodeCursor('feed', now.cursor), notVisibleIn: now.snapshot };
}

/**
 * How long a feed's start waits for its resume point to be checked: with the database slow or away
 * it starts unchecked, and waits for the database as it would anyway, rather than for a connect
 * timeout or a statement's deadline before it answers at all.
 */
const CHECK_WAIT_MS = 1000;

async function checkResumePoint(db: Db, after: string): Promise<void> {
  const check = isReachedCursor(db, decodeCursor('feed', after)).catch((error: unknown) => {
    if (isOutage(error)) return true;
    throw error;
  });
  const reached = await Promise.race([check, sleep(CHECK_WAIT_MS, true, { ref: false })]);
  if (!reached) throw new InvalidCursorError(after, 'after', UNREACHED_CURSOR);
}

/** One notification as the feed hands it out, with the cursor that resumes just after it. */
export interface FeedItem {
  readonly cursor: string;
  readonly topic: string;
  readonly message: NotificationMessage;
}

export interface FollowOptions {
  /** A cursor from an earlier item; undefined starts at the beginning. */
  readonly after: string | undefined;
  /** From startFeedNow: the notifications already there when the feed started, left out. */
  readonly notVisibleIn: string | undefined;
  /** Topic patterns (see Topic); undefined means every topic. */
  readonly topics: readonly string[] | undefined;
  readonly programId: string | undefined;
  readonly consortiumId: string | undefined;
  /** false: stop once everything available now has been read, or `limit` notifications. */
  readonly follow: boolean;
  /** Without following, the most notifications one response carries; the last one's id resumes. */
  readonly limit: number;
  readonly pageSize: number;
  /** How long to wait after a page that was not full before reading again. */
  readonly pollMs: number;
  /** Stops the feed: a pending wait ends at once, a pending read is allowed to finish. */
  readonly signal: AbortSignal;
}

/**
 * The notifications after a cursor, batch by batch, in the order the notification store gives
 * them (which never skips a late commit), then, when following, whatever is committed later.
 *
 * The cursor is decoded here, before anything is read, so that a cursor this service did not
 * issue throws InvalidCursorError synchronously and the caller can refuse the request.
 * A read that fails ends the iteration with that error; the last cursor handed out resumes it.
 * A database out of reach does not end a following feed: it reads again every `pollMs` until the
 * database is back, and goes on from where it was.
 */
function followNotifications(db: Db, options: FollowOptions): AsyncIterable<readonly FeedItem[]> {
  const start = options.after === undefined ? undefined : decodeCursor('feed', options.after);
  return batches(db, start, options);
}

async function* batches(db: Db, start: FeedCursor | undefined, options: FollowOptions): AsyncGenerator<readonly FeedItem[]> {
  const filter: NotificationFilter = {
    topics: options.topics,
    programId: options.programId,
    consortiumId: options.consortiumId,
    notVisibleIn: options.notVisibleIn,
  };
  let cursor = start;
  let left = options.follow ? Number.POSITIVE_INFINITY : options.limit;
  while (!options.signal.aborted && left > 0) {
    const size = Math.min(options.pageSize, left);
    const page = await readNotifications(db, cursor, size, filter).catch((error: unknown) => {
      if (options.follow && isOutage(error)) return undefined;
      throw error;
    });
    if (page === undefined) {
      await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
      continue;
    }
    if (page.notifications.length > 0) {
      left -= page.notifications.length;
      yield page.notifications.map((n) => ({ cursor: n.cursor, topic: n.topic, message: toNotificationMessage(n) }));
    }
    cursor = decodeCursor('feed', page.nextCursor);
    // A full page means more may be waiting: read on without pausing.
    if (page.notifications.length >= size) continue;
    if (!options.follow) return;
    // Aborting rejects the wait; the loop condition then ends the feed.
    await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

const isOutage = (error: unknown): boolean => error instanceof DatabaseUnavailableError || error instanceof StatementTimeoutError;
