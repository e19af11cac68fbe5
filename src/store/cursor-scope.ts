import { createHash } from 'node:crypto';
import { InvalidCursorError } from '../domain/errors.js';

/*
 * What a cursor was written for, and the reading of it back. A cursor is taken only by the list,
 * and the subject, it was written for: a programs cursor read as a consortiums one skipped every
 * consortium named before its program's id, and a timeline cursor read as a cell's evidence answered
 * an empty last page of a cell with 1,366 entries, both 200 (found by the probe of exports at scale).
 */

/** The paged lists, and the two feeds (the events', the notifications'), each in an order of its own. */
export type CursorList =
  | 'programs'
  | 'consortiums'
  | 'consortium-status'
  | 'timeline'
  | 'evidence'
  | 'api-keys'
  | 'subscriptions'
  | 'attempts'
  | 'events'
  | 'feed';

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
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(separator);
  const [written, ...rest] = parts;
  const scoped = written === version.scoped;
  if (!scoped && written !== version.legacy) throw new InvalidCursorError(text);
  const fields = scoped ? rest.slice(1) : rest;
  if (fields.length !== count || !valid(fields)) throw new InvalidCursorError(text);
  if (scoped && rest[0] !== scopeTag(scope)) throw new InvalidCursorError(text, 'after', OTHER_SCOPE);
  return fields;
}
