import type { FieldError } from './problem.js';

/** The parts of a zod issue we read; fastify-type-provider-zod hands them over as `params`. */
export interface IssueLike {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code?: string | undefined;
  readonly errors?: readonly (readonly IssueLike[])[] | undefined;
}

/**
 * Whether a branch refused the keys of the object the union was given: the shape the client did
 * not mean. A single event with two fields of the wrong type tied, by depth and count, with the
 * batch form, which found every key unrecognised and `events` missing; the batch won the tie, and
 * the answer called the event's own keys unrecognised without naming the two fields (found by the
 * probe of hostile input, 2026-12-07).
 */
const refusesTheShape = (branch: readonly IssueLike[]): boolean => branch.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0);

/**
 * A failed union (a single event or a batch) reports every branch. The branch that got deepest into
 * the input is the one the client meant; on a tie, one that recognised the object's keys; then the
 * one with fewer complaints.
 */
function bestBranch(branches: readonly (readonly IssueLike[])[]): readonly IssueLike[] {
  const depth = (issues: readonly IssueLike[]) => Math.max(0, ...issues.map((i) => i.path.length));
  const rank = (issues: readonly IssueLike[]) => [-depth(issues), refusesTheShape(issues) ? 1 : 0, issues.length];
  let best: readonly IssueLike[] | undefined;
  for (const branch of branches) {
    if (best === undefined || before(rank(branch), rank(best))) best = branch;
  }
  return best ?? [];
}

/** Whether one rank comes before another, comparing member by member. */
function before(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** A branch's issues are placed relative to the union: each is put back under the union's path. */
function flatten(issue: IssueLike): IssueLike[] {
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0) {
    return bestBranch(issue.errors).flatMap((inner) => flatten({ ...inner, path: [...issue.path, ...inner.path] }));
  }
  return [issue];
}

const samePath = (a: readonly (string | number)[], b: readonly (string | number)[]) => a.length === b.length && a.every((token, i) => String(token) === String(b[i]));

/**
 * A value of the wrong type is told that alone. zod runs a string's length checks on whatever it
 * was given, so `"note": []` was told "expected string, received array" and then "expected array to
 * have >=1 items", as if an array would do (found by the probe of hostile input, 2026-12-07).
 */
const withoutFollowOns = (issues: readonly IssueLike[]): IssueLike[] =>
  issues.filter((issue) => issue.code === 'invalid_type' || !issues.some((other) => other.code === 'invalid_type' && samePath(other.path, issue.path)));

const escapePointerToken = (token: PropertyKey): string => String(token).replaceAll('~', '~0').replaceAll('/', '~1');

/** Field errors naming where each fault is: a JSON pointer for the body, a name for parameters. */
export function toFieldErrors(issues: readonly IssueLike[], context: string | undefined): FieldError[] {
  return withoutFollowOns(issues.flatMap(flatten)).map((issue) =>
    context === 'body' || context === undefined
      ? { pointer: `/${issue.path.map(escapePointerToken).join('/')}`, detail: issue.message }
      : { parameter: issue.path.map(String).join('.'), detail: issue.message },
  );
}
