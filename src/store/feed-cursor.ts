import { InvalidCursorError } from '../domain/errors.js';

/**
 * A place in the global feed: the writer's transaction id and the position of the last event read.
 * Clients get it as an opaque string, so its make-up can change without breaking them.
 */
export interface FeedCursor {
  readonly tx: string;
  readonly position: string;
}

const VERSION = 'f1';
const DIGITS = /^\d{1,20}$/;
// Beyond these the database would refuse the cast: a forged cursor is a 400, not a 500.
const MAX_XID8 = 2n ** 64n - 1n;
const MAX_BIGINT = 2n ** 63n - 1n;

export const FEED_START: FeedCursor = { tx: '0', position: '0' };

/** The place after every notification of every transaction older than `tx` (an xid8), and before any of `tx`'s own. */
export function cursorBefore(tx: string): FeedCursor {
  return { tx: (BigInt(tx) - 1n).toString(), position: MAX_BIGINT.toString() };
}

export function encodeCursor(cursor: FeedCursor): string {
  return Buffer.from(`${VERSION}:${cursor.tx}:${cursor.position}`).toString('base64url');
}

export function decodeCursor(text: string): FeedCursor {
  const [version, tx, position, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split(':');
  if (version !== VERSION || tx === undefined || position === undefined || rest.length > 0) throw new InvalidCursorError(text);
  if (!DIGITS.test(tx) || !DIGITS.test(position)) throw new InvalidCursorError(text);
  if (BigInt(tx) > MAX_XID8 || BigInt(position) > MAX_BIGINT) throw new InvalidCursorError(text);
  return { tx, position };
}
