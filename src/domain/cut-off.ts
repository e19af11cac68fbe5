import type { FuzzyDate } from './fuzzy-date.js';

/*
 * What a person means by a cut-off or a range end (SPEC §2.1): "as of June" includes June, so a
 * calendar form used as a cut-off or as the end of a range stands for the END of its period, and
 * as the start of a range for its start. Each resolves to an exclusive bound: a calendar form to
 * the first instant after its period, an instant to the first millisecond after it (timestamps are
 * shown to the millisecond, so an instant given back covers its whole millisecond).
 */

const MILLISECOND = 1;

/** The first instant not covered by a cut-off or a range end given as `date`. */
export function endBound(date: FuzzyDate): Date {
  return date.precision === 'instant' ? new Date(date.start.getTime() + MILLISECOND) : date.end;
}

/** The last instant a cut-off or a range end covers, as views echo it. */
export const lastCovered = (bound: Date): Date => new Date(bound.getTime() - MILLISECOND);

/**
 * A view's cut-offs, as exclusive bounds: events that began before `worldBefore` (asOf) and were
 * recorded before `knownBefore` (knownAt) count. Without asOf, "now" judges overdue and certainty.
 */
export interface Cutoff {
  readonly worldBefore: Date | undefined;
  readonly knownBefore: Date | undefined;
}

/**
 * An event has certainly happened by a cut-off once its interval has ended by then; it may have
 * happened once its interval has begun (SPEC §2.1).
 */
export const certainBy = (occurred: FuzzyDate, bound: Date): boolean => occurred.end.getTime() <= bound.getTime();
