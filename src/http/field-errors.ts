import type { FieldError } from './problem.js';

/** The parts of a zod issue we read; fastify-type-provider-zod hands them over as `params`. */
export interface IssueLike {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly code?: string | undefined;
  readonly errors?: readonly (readonly IssueLike[])[] | undefined;
}

/**
 * A failed union (a single event or a batch; one of seventeen event types) reports every branch.
 * The branch that got deepest into the input is the one the client meant; on a tie, the one with
 * fewer complaints.
 */
function bestBranch(branches: readonly (readonly IssueLike[])[]): readonly IssueLike[] {
  const depth = (issues: readonly IssueLike[]) => Math.max(0, ...issues.map((i) => i.path.length));
  let best: readonly IssueLike[] = [];
  for (const branch of branches) {
    if (best.length === 0 || depth(branch) > depth(best) || (depth(branch) === depth(best) && branch.length < best.length)) {
      best = branch;
    }
  }
  return best;
}

function flatten(issue: IssueLike): IssueLike[] {
  if (issue.code === 'invalid_union' && issue.errors !== undefined && issue.errors.length > 0) {
    return bestBranch(issue.errors).flatMap(flatten);
  }
  return [issue];
}

const escapePointerToken = (token: PropertyKey): string => String(token).replaceAll('~', '~0').replaceAll('/', '~1');

/** Field errors naming where each fault is: a JSON pointer for the body, a name for parameters. */
export function toFieldErrors(issues: readonly IssueLike[], context: string | undefined): FieldError[] {
  return issues.flatMap(flatten).map((issue) =>
    context === 'body' || context === undefined
      ? { pointer: `/${issue.path.map(escapePointerToken).join('/')}`, detail: issue.message }
      : { parameter: issue.path.map(String).join('.'), detail: issue.message },
  );
}
