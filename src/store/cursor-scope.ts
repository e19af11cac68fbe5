import { createHash } from 'node:crypto';
import { InvalidCursorError } from '../domain/errors.js';

/*
 * What a cursor was written for, and the reading of it back. A cursor is taken only by the list,
 * and the subject, it was written for: a programs cursor read as a consortiums one skipped every
 * consortium named before its program's id, and a timeline cursor read as a cell's evidence answered
 * an empty last page of a cell with 1,366 entries, both 200 (found by the probe of exports at scale).
 */

/** The paged lists, and the two feeds (the events', the notifications'), each in an order of its own. */
const CURSOR_LISTS = [
  'programs',
  'consortiums',
  'consortium-status',
  'timeline',
  'evidence',
  'api-keys',
  'subscriptions',
  'attempts',
  'events',
  'feed',
] as const;
export type CursorList = (typeof CURSOR_LISTS)[number];

/** A list and, for a list of one subject (a consortium's programs, a cell's evidence, a delivery's attempts), that subject. */
export interface CursorScope {
  readonly list: CursorList;
  readonly subject?: string;
}

/** A cursor form's version as written since 2026-12-05, naming its scope, and the one before, which named none. */
export interface CursorVersion {
  readonly scoped: string;
  readonly legacy: string;
}

/** The scope as a cursor carries it: the subject as a short digest, so the cursor stays short whatever it names. */
const scopeTag = ({ list, subject }: CursorScope): string =>
  subject === undefined ? list : `${list}.${createHash('sha256').update(subject).digest('base64url').slice(0, 11)}`;

/** A scope as scopeTag writes one: a list's name, and a subject's digest. */
const TAG = new RegExp(`^(${CURSOR_LISTS.join('|')})(\\.[A-Za-z0-9_-]{11})?$`);
/** The start of any cursor form the service writes: ids, world keys, creation, attempts, feeds, pins. */
const ANY_FORM = /^[kwcafn][12][:|]/;

const OTHER_SCOPE = 'is a cursor of another list, or of this list for another subject: use a cursor the list it is sent to gave, or start again without one';

/** A cursor of `fields`, in the version that names its scope. */
export const writeCursor = (version: CursorVersion, scope: CursorScope, fields: readonly string[], separator = ':'): string =>
  Buffer.from([version.scoped, scopeTag(scope), ...fields].join(separator)).toString('base64url');

/**
 * The fields of a cursor `writeCursor` wrote for `scope`: `count` of them, each as `valid` holds it.
 * One of the version before (no scope) is taken by any list, as it was, so that a walk under way
 * when the service was upgraded goes on. Checked in that order, so that a malformed cursor is said
 * to be one the service did not issue, and only a well-formed one of another scope is said to be so.
 */
export function readCursor(
  text: string,
  version: CursorVersion,
  scope: CursorScope,
  count: number,
  valid: (fields: readonly string[]) => boolean,
  separator = ':',
): string[] {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const [written, ...rest] = decoded.split(separator);
  const scoped = written === version.scoped;
  if (!scoped && written !== version.legacy) {
    // Another form of the service's own (another list's, a pinned one where none is pinned) is said to be so.
    throw ANY_FORM.test(decoded) ? new InvalidCursorError(text, 'after', OTHER_SCOPE) : new InvalidCursorError(text);
  }
  const fields = scoped ? rest.slice(1) : rest;
  if (fields.length !== count || !valid(fields) || (scoped && !TAG.test(rest[0] ?? ''))) throw new InvalidCursorError(text);
  if (scoped && rest[0] !== scopeTag(scope)) throw new InvalidCursorError(text, 'after', OTHER_SCOPE);
  return fields;
}
