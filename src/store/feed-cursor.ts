import { InvalidCursorError } from '../domain/errors.js';

/**
 * A place in the global feed: the writer's transaction id and the position of the last event read.
 * Clients get it as an opaque string, so its make-up can change without breaking them.
 */
export interface FeedCursor {
  readonly tx: string;
  readonly position: string;
}

/**
 * The two feeds a cursor may be for: the events (GET /v1/events) and the notifications (GET /v1/feed),
 * each in its own order, so that one's cursor is refused by the other rather than read as a place in
 * it. Cursors written before 2026-12-05 (version 1) named neither and are taken by both, as before.
 */
export type FeedList = 'events' | 'feed';
const VERSION = 'f2';
const LEGACY_VERSION = 'f1';
const DIGITS = /^\d{1,20}$/;
// Beyond these the database would refuse the cast: a forged cursor is a 400, not a 500.
const MAX_XID8 = 2n ** 64n - 1n;
const MAX_BIGINT = 2n ** 63n - 1n;

export const FEED_START: FeedCursor = { tx: '0', position: '0' };

/** The place after every notification of every transaction older than `tx` (an xid8), and before any of `tx`'s own. */
export function cursorBefore(tx: string): FeedCursor {
  return { tx: (BigInt(tx) - 1n).toString(), position: MAX_BIGINT.toString() };
}

export function encodeCursor(list: FeedList, cursor: FeedCursor): string {
  return Buffer.from(`${VERSION}:${list}:${cursor.tx}:${cursor.position}`).toString('base64url');
}

/** Why a cursor of the other feed is refused, and how to go on. */
const OTHER_FEED_CURSOR = 'is a cursor of the other feed (events and notifications are read in orders of their own): use a cursor of the feed it is sent to, or start again without it';

export function decodeCursor(list: FeedList, text: string): FeedCursor {
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
  const [version, named, tx, position, ...rest] = parts[0] === LEGACY_VERSION ? [parts[0], list, ...parts.slice(1)] : parts;
  if ((version !== VERSION && version !== LEGACY_VERSION) || tx === undefined || position === undefined || rest.length > 0) throw new InvalidCursorError(text);
  if (named !== 'events' && named !== 'feed') throw new InvalidCursorError(text);
  if (named !== list) throw new InvalidCursorError(text, 'after', OTHER_FEED_CURSOR);
  if (!DIGITS.test(tx) || !DIGITS.test(position)) throw new InvalidCursorError(text);
  if (BigInt(tx) > MAX_XID8 || BigInt(position) > MAX_BIGINT) throw new InvalidCursorError(text);
  return { tx, position };
}
