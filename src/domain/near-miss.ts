import { distance } from 'fastest-levenshtein';

const MOST = 3;
/** What separates the words of an id: "lg-ai" is the first two words of "lg-ai-research". */
const WORD_BREAK = /^[-_./]/;

/**
 * The candidates closest to a mistyped id, for a "did you mean …?": at most three, nearest first.
 * Near is within a third of the id's length of edits (and at least two) of it, or an id that begins
 * with the whole of it and goes on with more words ("lg-ai" for "lg-ai-research", a short name for
 * the registered one): one edit away first, then those, shortest first, then the others.
 */
export function closestIds(target: string, candidates: readonly string[]): string[] {
  const allowed = Math.max(2, Math.floor(target.length / 3));
  const byEdits = candidates
    .map((candidate) => ({ candidate, edits: distance(target, candidate) }))
    .filter(({ candidate, edits }) => edits <= allowed && candidate !== target)
    .sort((a, b) => a.edits - b.edits || (a.candidate < b.candidate ? -1 : 1));
  const byWords =
    target.length < 2
      ? []
      : candidates
          .filter((candidate) => candidate.startsWith(target) && WORD_BREAK.test(candidate.slice(target.length)))
          .filter((candidate) => !byEdits.some((near) => near.candidate === candidate && near.edits <= 1))
          .sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const oneEdit = byEdits.filter(({ edits }) => edits <= 1).map(({ candidate }) => candidate);
  const more = byEdits.filter(({ edits, candidate }) => edits > 1 && !byWords.includes(candidate)).map(({ candidate }) => candidate);
  return [...oneEdit, ...byWords, ...more].slice(0, MOST);
}

/**
 * The closest of the ids a reference of `kind` may have meant. A milestone's key is
 * program/milestone and its candidates are the same program's: what is near is the milestone's own
 * id, measured without the program's.
 */
export function closestReferences(kind: string, key: string, candidates: readonly string[]): string[] {
  const own = (id: string) => (kind === 'milestone' ? id.slice(id.indexOf('/') + 1) : id);
  return closestIds(own(key), candidates.map(own));
}
