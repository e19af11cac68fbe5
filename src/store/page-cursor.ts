import { sql } from 'kysely';
import { InvalidCursorError } from '../domain/errors.js';
import { isWithinDates } from '../domain/fuzzy-date.js';
import { pageOf } from './page-read.js';
import { isSlug } from '../domain/identifiers.js';
import { readCursor, writeCursor, type CursorScope, type CursorVersion } from './cursor-scope.js';

/*
 * Cursors of the paged lists other than the global feed (src/store/feed-cursor.ts): the key of the
 * last item of a page, opaque to clients so that its make-up can change without breaking them.
 * A cursor comes back from a client, so each part is held to what the service could have written
 * there before it reaches a statement: text the database refuses (a NUL), an instant beyond its
 * range or a calendar day that does not exist would otherwise fail there, a 500 for a client's
 * mistake.
 */

const ID_VERSION: CursorVersion = { scoped: 'k2', legacy: 'k1' };
const WORLD_VERSION: CursorVersion = { scoped: 'w2', legacy: 'w1' };
const DIGITS = /^\d{1,19}$/;
const isBigint = (text: string | undefined): text is string => text !== undefined && DIGITS.test(text) && BigInt(text) <= 2n ** 63n - 1n;

/** After an id (programs, consortiums): keys are compared in code-point order. */
export const encodeIdCursor = (scope: CursorScope, id: string): string => writeCursor(ID_VERSION, scope, [id]);

export function decodeIdCursor(text: string, scope: CursorScope): string {
  const [id = ''] = readCursor(text, ID_VERSION, scope, 1, ([id]) => id !== undefined && isSlug(id));
  return id;
}

/** A place in world-time order: an event's occurred start and position. */
export interface WorldKey {
  readonly start: Date;
  readonly position: string;
}

export const encodeWorldCursor = (scope: CursorScope, key: WorldKey): string =>
  writeCursor(WORLD_VERSION, scope, [String(key.start.getTime()), key.position]);

// An event's start: within the years a date can name (fuzzy-date.ts).
const isWorldStart = (millis: string | undefined): millis is string =>
  millis !== undefined && /^-?\d{1,16}$/.test(millis) && isWithinDates(new Date(Number(millis)));

export function decodeWorldCursor(text: string, scope: CursorScope): WorldKey {
  const [millis = '', position = ''] = readCursor(text, WORLD_VERSION, scope, 2, ([millis, position]) => isWorldStart(millis) && isBigint(position));
  return { start: new Date(Number(millis)), position };
}

const CREATED_VERSION: CursorVersion = { scoped: 'c2', legacy: 'c1' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MICRO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Whether an instant to the microsecond names a day and time that exist (Date reads 2026-02-30 as
 * 2 March), in the years PostgreSQL's timestamptz and the service's dates share (year 0000 reads
 * fine in JavaScript and fails the query).
 */
const isCalendarInstant = (created: string): boolean => {
  const instant = new Date(created);
  return (
    !Number.isNaN(instant.getTime()) &&
    instant.toISOString().slice(0, 19) === created.slice(0, 19) &&
    isWithinDates(instant)
  );
};

/** A place in creation order (subscriptions, API keys): the creation instant to the microsecond, and the id. */
export interface CreatedKey {
  readonly created: string;
  readonly id: string;
}

export const encodeCreatedCursor = (scope: CursorScope, key: CreatedKey): string => writeCursor(CREATED_VERSION, scope, [key.created, key.id], '|');

export function decodeCreatedCursor(text: string, scope: CursorScope): CreatedKey {
  const isCreated = ([created, id]: readonly string[]) =>
    created !== undefined && id !== undefined && MICRO_INSTANT.test(created) && UUID.test(id) && isCalendarInstant(created);
  const [created = '', id = ''] = readCursor(text, CREATED_VERSION, scope, 2, isCreated, '|');
  return { created, id };
}

/** The creation instant of a row as a cursor keeps it: to the microsecond, in UTC. */
export const createdKeyColumn = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('created_key');

/** Rows after a place in creation order (created_at, then id). */
export const afterCreated = (after: CreatedKey) => sql<boolean>`(created_at, id) > (${after.created}::timestamptz, ${after.id}::uuid)`;

/**
 * A page of `limit` rows read in creation order, from a read of `limit` + 1 (pageRead): the rows, and
 * the place after them, undefined when no row follows (the last page has no cursor).
 */
export function createdPage<T extends { readonly created_key: string; readonly id: string }>(
  rows: readonly T[],
  limit: number,
): { readonly rows: readonly T[]; readonly next: CreatedKey | undefined } {
  const { items, last } = pageOf(rows, limit);
  return { rows: items, next: last === undefined ? undefined : { created: last.created_key, id: last.id } };
}

const ATTEMPT_VERSION: CursorVersion = { scoped: 'a2', legacy: 'a1' };

/** A place in a delivery's attempt log: the last attempt's row number. */
export const encodeAttemptCursor = (scope: CursorScope, attemptId: string): string => writeCursor(ATTEMPT_VERSION, scope, [attemptId]);

export function decodeAttemptCursor(text: string, scope: CursorScope): string {
  const [id = ''] = readCursor(text, ATTEMPT_VERSION, scope, 1, ([id]) => isBigint(id));
  return id;
}

const PINNED_VERSION = 'n1';
const MILLIS = /^\d{1,15}$/;

/**
 * A list's cursor with the knownAt its pages are answered at (services/settled-cutoff.ts): the
 * instant in milliseconds (exclusive, as a cut-off's knownBefore), then the list's own cursor.
 */
export const encodePinnedCursor = (knownBefore: Date, cursor: string): string =>
  Buffer.from(`${PINNED_VERSION}:${knownBefore.getTime()}:${cursor}`).toString('base64url');

/** The pin and the list's own cursor; a cursor without a pin comes back as it is. */
export function decodePinnedCursor(text: string): { readonly knownBefore: Date | undefined; readonly cursor: string } {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  if (!decoded.startsWith(`${PINNED_VERSION}:`)) return { knownBefore: undefined, cursor: text };
  const [, millis = '', ...rest] = decoded.split(':');
  const knownBefore = new Date(Number(millis));
  const cursor = rest.join(':');
  if (!MILLIS.test(millis) || !isWithinDates(knownBefore) || cursor === '') throw new InvalidCursorError(text);
  return { knownBefore, cursor };
}
