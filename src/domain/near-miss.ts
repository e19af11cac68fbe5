import { distance } from 'fastest-levenshtein';

const MOST = 3;

/**
 * The candidates closest to a mistyped id, by edit distance, for a "did you mean …?": at most
 * three, each within a third of the id's length (and at least two edits) of it, nearest first.
 */
export function closestIds(target: string, candidates: readonly string[]): string[] {
  const allowed = Math.max(2, Math.floor(target.length / 3));
  return candidates
    .map((candidate) => ({ candidate, edits: distance(target, candidate) }))
    .filter(({ candidate, edits }) => edits <= allowed && candidate !== target)
    .sort((a, b) => a.edits - b.edits || (a.candidate < b.candidate ? -1 : 1))
    .slice(0, MOST)
    .map(({ candidate }) => candidate);
}
