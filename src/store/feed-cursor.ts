import { readCursor, writeCursor, type CursorList, type CursorVersion } from './cursor-scope.js';

/**
 * A place in the global feed: the writer's transaction id and the position of the last event read.
 * Clients get it as an opaque string, so its make-up can change without breaking them.
 */
export interface FeedCursor {
  readonly tx: string;
  readonly position: string;
}

/** The events' feed (GET /v1/events) or the notifications' (GET /v1/feed), each in its own order. */
export type FeedList = Extract<CursorList, 'events' | 'feed'>;
const VERSION: CursorVersion = { scoped: 'f2', legacy: 'f1' };
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
  return writeCursor(VERSION, { list }, [cursor.tx, cursor.position]);
}

const isPlace = ([tx, position]: readonly string[]): boolean =>
  tx !== undefined && position !== undefined && DIGITS.test(tx) && DIGITS.test(position) && BigInt(tx) <= MAX_XID8 && BigInt(position) <= MAX_BIGINT;

export function decodeCursor(list: FeedList, text: string): FeedCursor {
  const [tx = '', position = ''] = readCursor(text, VERSION, { list }, 2, isPlace);
  return { tx, position };
}
