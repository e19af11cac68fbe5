import type { FieldError } from './problem.js';

/** The parts of a zod issue we read; fastify-type-provider-zod hands them over as `params`. */
export interface IssueLike {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code?: string | undefined;
  readonly errors?: readonly (readonly IssueLike[])[] | undefined;
  /** An unrecognized_keys issue's keys. */
  readonly keys?: readonly string[] | undefined;
}

/**
 * How many of the keys of the object the union was given a branch refused: the more, the less it is
 * the shape the client meant. A single event with two fields of the wrong type tied, by depth and
 * count, with the batch form, which found every key unrecognised and `events` missing; the batch won
 * the tie, and the answer called the event's own keys unrecognised without naming the two fields
 * (found by the probe of hostile input, 2026-12-07). Counted, not only noticed: a single event with
 * a misspelt key refuses that one, the batch form all of them (found by its review).
 */
const keysRefused = (branch: readonly IssueLike[]): number =>
  branch.reduce((count, issue) => count + (issue.code === 'unrecognized_keys' && issue.path.length === 0 ? (issue.keys?.length ?? 1) : 0), 0);

/** The longest path among a branch's issues: a loop, since a spread of 125,000 of them overflows the stack (a 500, found by the review of 2026-12-07). */
const depth = (issues: readonly IssueLike[]): number => issues.reduce((deepest, issue) => Math.max(deepest, issue.path.length), 0);

/**
 * A failed union (a single event or a batch) reports every branch. The branch that got deepest into
 * the input is the one the client meant; on a tie, the one that refused fewer of the object's keys;
 * then the one with fewer complaints.
 */
const meantBefore = (a: readonly IssueLike[], b: readonly IssueLike[]): number =>
  depth(b) - depth(a) || keysRefused(a) - keysRefused(b) || a.length - b.length;

function bestBranch(branches: readonly (readonly IssueLike[])[]): readonly IssueLike[] {
  return branches.reduce<readonly IssueLike[] | undefined>((best, branch) => (best === undefined || meantBefore(branch, best) < 0 ? branch : best), undefined) ?? [];
}

/** A branch's issues are placed relative to the union: each is put back under the union's path. */
function flatten(issue: IssueLike): IssueLike[] {
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0) {
    return bestBranch(issue.errors).flatMap((inner) => flatten({ ...inner, path: [...issue.path, ...inner.path] }));
  }
  return [issue];
}

const pathKey = (path: readonly (string | number)[]): string => JSON.stringify(path.map(String));

/**
 * A value of the wrong type is told that alone. zod runs a string's length checks on whatever it
 * was given, so `"note": []` was told "expected string, received array" and then "expected array to
 * have >=1 items", as if an array would do (found by the probe of hostile input, 2026-12-07). In one
 * pass over a set of paths: a batch can bring 100,000 issues, and comparing each with all the others
 * held the event loop for tens of seconds (found by the review of that change).
 */
function withoutFollowOns(issues: readonly IssueLike[]): IssueLike[] {
  const mistyped = new Set(issues.filter((issue) => issue.code === 'invalid_type').map((issue) => pathKey(issue.path)));
  return issues.filter((issue) => issue.code === 'invalid_type' || !mistyped.has(pathKey(issue.path)));
}

const escapePointerToken = (token: PropertyKey): string => String(token).replaceAll('~', '~0').replaceAll('/', '~1');

/** Field errors naming where each fault is: a JSON pointer for the body, a name for parameters. */
export function toFieldErrors(issues: readonly IssueLike[], context: string | undefined): FieldError[] {
  return withoutFollowOns(issues.flatMap(flatten)).map((issue) =>
    context === 'body' || context === undefined
      ? { pointer: `/${issue.path.map(escapePointerToken).join('/')}`, detail: issue.message }
      : { parameter: issue.path.map(String).join('.'), detail: issue.message },
  );
}
