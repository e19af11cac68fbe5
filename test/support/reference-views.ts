import type { Db } from '../../src/store/database.js';
import { parseFuzzyDate } from '../../src/domain/fuzzy-date.js';
import { foldProgram } from './reference-status-model.js';
import { selectEvents } from './stored-events.js';
import type { matrix } from './views.js';

/*
 * The oracle of the read-model tests: a program's whole log, read straight from the event table,
 * folded by the reference model of SPEC §4, in the shape the API's matrix is compared in.
 */

export interface Cut {
  readonly asOf?: string | undefined;
  readonly knownAt?: string | undefined;
}

/** The query string of a cut, as the API takes it. */
export const cutQuery = (cut: Cut): string => {
  const params = new URLSearchParams();
  if (cut.asOf !== undefined) params.set('asOf', cut.asOf);
  if (cut.knownAt !== undefined) params.set('knownAt', cut.knownAt);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
};

/** A cut-off as SPEC §2.1 words it: a calendar form covers its period, an instant its millisecond. */
const bound = (text: string | undefined): Date | undefined => {
  const date = text === undefined ? undefined : parseFuzzyDate(text);
  if (date === undefined) return undefined;
  return date.precision === 'instant' ? new Date(date.start.getTime() + 1) : date.end;
};

export interface ComparableCell {
  readonly consortiumId: string;
  readonly status: string;
  readonly since: string;
  readonly due: string | undefined;
  readonly overdue: boolean;
  readonly certain: boolean;
  readonly evidenceCount: number;
  readonly evidence: readonly string[];
}

export interface ComparableMilestone {
  readonly milestone: string;
  readonly due: string | undefined;
  readonly cells: readonly ComparableCell[];
}

const byConsortium = (a: ComparableCell, b: ComparableCell) => (a.consortiumId < b.consortiumId ? -1 : a.consortiumId > b.consortiumId ? 1 : 0);

/** What the reference model says the matrix is at the cut, each cell with its `evidenceShown` latest evidence. */
export async function referenceMatrix(db: Db, programId: string, cut: Cut, now: Date, evidenceShown = 20): Promise<ComparableMilestone[]> {
  const asOf = bound(cut.asOf);
  const judgedAt = asOf ?? now;
  const folded = foldProgram(programId, await selectEvents(db, { programId }), { asOf, knownAt: bound(cut.knownAt), now });
  return folded.map((m) => ({
    milestone: m.milestone,
    due: m.due?.value,
    cells: m.cells
      .map((c) => ({
        consortiumId: c.consortiumId ?? '-',
        status: c.status,
        since: c.since.value,
        due: c.due?.value,
        overdue: c.overdue,
        certain: c.since.end.getTime() <= judgedAt.getTime(),
        evidenceCount: c.evidence.length,
        evidence: [...c.evidence].reverse().slice(0, evidenceShown),
      }))
      .sort(byConsortium),
  }));
}

/** The API's matrix in the same shape. */
export function comparable(view: Awaited<ReturnType<typeof matrix>>): ComparableMilestone[] {
  return view.milestones.map((m) => ({
    milestone: m.milestone,
    due: m.due?.value,
    cells: m.cells
      .map((c) => ({
        consortiumId: c.consortiumId ?? '-',
        status: c.status,
        since: c.since.value,
        due: c.due?.value,
        overdue: c.overdue,
        certain: c.certain,
        evidenceCount: c.evidenceCount,
        evidence: c.evidence.map((entry) => (typeof entry === 'string' ? entry : entry.id)),
      }))
      .sort(byConsortium),
  }));
}

/** The millisecond before an instant the API returned: a knownAt that leaves out what was recorded at it. */
export const justBefore = (at: string | undefined): string => new Date(new Date(at ?? '').getTime() - 1).toISOString();
