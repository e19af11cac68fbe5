import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { InvalidCursorError } from '../domain/errors.js';
import { isWithinDates } from '../domain/fuzzy-date.js';
import { pageOf } from './page-read.js';
import { isSlug } from '../domain/identifiers.js';

/*
 * Cursors of the paged lists other than the global feed (src/store/feed-cursor.ts): the key of the
 * last item of a page, opaque to clients so that its make-up can change without breaking them.
 * A cursor comes back from a client, so each part is held to what the service could have written
 * there before it reaches a statement: text the database refuses (a NUL), an instant beyond its
 * range or a calendar day that does not exist would otherwise fail there, a 500 for a client's
 * mistake.
 */

/** The paged lists whose cursors this module writes. */
export type CursorList = 'programs' | 'consortiums' | 'consortium-status' | 'timeline' | 'evidence' | 'api-keys' | 'subscriptions';

/**
 * What a cursor was written for: its list and, for a list of one subject (a consortium's programs,
 * a cell's evidence, the timeline of one filter), that subject. A cursor is taken only by the list
 * and subject it was written for: a programs cursor read as a consortiums one skipped every
 * consortium named before its program's id, and a timeline cursor read as a cell's evidence
 * answered an empty last page of a cell with 1,366 entries, both 200 (found by the probe of exports
 * at scale). The subject goes in as a short digest: the cursor stays short whatever it names.
 */
export interface CursorScope {
  readonly list: CursorList;
  readonly subject?: string;
}

const scopeTag = ({ list, subject }: CursorScope): string =>
  subject === undefined ? list : `${list}.${createHash('sha256').update(subject).digest('base64url').slice(0, 11)}`;

/** Why a cursor of the service's own making is refused by another list or subject, and how to go on. */
export const OTHER_LIST_CURSOR = 'is a cursor of another list, or of this list for another subject: use the nextCursor of the list it is sent to, or start again without after';

/**
 * A cursor's scope, read against the one its list expects: written before 2026-12-05 (version 1),
 * it named none and is taken as before, so that a walk under way when the service was upgraded goes
 * on. Returns false for a cursor of another version.
 */
function scopeHolds(text: string, version: { readonly scoped: string; readonly legacy: string }, found: string, tag: string | undefined, scope: CursorScope): boolean {
  if (found === version.legacy) return true;
  if (found !== version.scoped) return false;
  if (tag !== scopeTag(scope)) throw new InvalidCursorError(text, 'after', OTHER_LIST_CURSOR);
  return true;
}

const ID_VERSION = { scoped: 'k2', legacy: 'k1' } as const;
const WORLD_VERSION = { scoped: 'w2', legacy: 'w1' } as const;
const DIGITS = /^\d{1,19}$/;

/** After an id (programs, consortiums): keys are compared in code-point order. */
export const encodeIdCursor = (scope: CursorScope, id: string): string => Buffer.from(`${ID_VERSION.scoped}:${scopeTag(scope)}:${id}`).toString('base64url');

export function decodeIdCursor(text: string, scope: CursorScope): string {
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
  const [version = '', tag, id] = parts[0] === ID_VERSION.legacy ? [parts[0], undefined, parts.slice(1).join(':')] : [parts[0], parts[1], parts.slice(2).join(':')];
  if (!scopeHolds(text, ID_VERSION, version, tag, scope) || !isSlug(id)) throw new InvalidCursorError(text);
  return id;
}

/** A place in world-time order: an event's occurred start and position. */
export interface WorldKey {
  readonly start: Date;
  readonly position: string;
}

export const encodeWorldCursor = (scope: CursorScope, key: WorldKey): string =>
  Buffer.from(`${WORLD_VERSION.scoped}:${scopeTag(scope)}:${key.start.getTime()}:${key.position}`).toString('base64url');

export function decodeWorldCursor(text: string, scope: CursorScope): WorldKey {
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
  const [version = '', tag, millis, position, ...rest] = parts[0] === WORLD_VERSION.legacy ? [parts[0], undefined, ...parts.slice(1)] : parts;
  if (!scopeHolds(text, WORLD_VERSION, version, tag, scope) || millis === undefined || position === undefined || rest.length > 0) throw new InvalidCursorError(text);
  if (!/^-?\d{1,16}$/.test(millis) || !DIGITS.test(position) || BigInt(position) > 2n ** 63n - 1n) throw new InvalidCursorError(text);
  const start = new Date(Number(millis));
  // An event's start: within the years a date can name (fuzzy-date.ts).
  if (!isWithinDates(start)) throw new InvalidCursorError(text);
  return { start, position };
}

const CREATED_VERSION = { scoped: 'c2', legacy: 'c1' } as const;
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

export const encodeCreatedCursor = (scope: CursorScope, key: CreatedKey): string =>
  Buffer.from(`${CREATED_VERSION.scoped}|${scopeTag(scope)}|${key.created}|${key.id}`).toString('base64url');

export function decodeCreatedCursor(text: string, scope: CursorScope): CreatedKey {
  const parts = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const [version = '', tag, created, id, ...rest] = parts[0] === CREATED_VERSION.legacy ? [parts[0], undefined, ...parts.slice(1)] : parts;
  if (!scopeHolds(text, CREATED_VERSION, version, tag, scope) || created === undefined || id === undefined || rest.length > 0) throw new InvalidCursorError(text);
  if (!MICRO_INSTANT.test(created) || !UUID.test(id) || !isCalendarInstant(created)) throw new InvalidCursorError(text);
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

const ATTEMPT_VERSION = 'a1';

/** A place in a delivery's attempt log: the last attempt's row number. */
export const encodeAttemptCursor = (attemptId: string): string => Buffer.from(`${ATTEMPT_VERSION}:${attemptId}`).toString('base64url');

export function decodeAttemptCursor(text: string): string {
  const [version, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split(':');
  if (version !== ATTEMPT_VERSION || id === undefined || rest.length > 0 || !DIGITS.test(id) || BigInt(id) > 2n ** 63n - 1n) throw new InvalidCursorError(text);
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
