import { z } from 'zod';
import { MilestoneStatus } from '../../domain/milestone-status.js';
import { MilestoneScope } from '../../domain/event-data.js';
import { FuzzyDateInput } from '../../domain/fuzzy-date.js';
import type { ConsortiumSummary, MilestoneCell, MilestoneView, ProgramSummary } from '../../services/status-views.js';
import { FuzzyDateOutput, toFuzzyDateOutput } from '../../domain/event-envelope.js';

/** asOf and knownAt, accepted by every view; a calendar form stands for its first instant (UTC). */
export const CutoffQuery = {
  asOf: FuzzyDateInput.optional().meta({
    description:
      'World time: only events that had begun by then count, and overdue is judged at that instant. Omit for now. ' +
      'Any precision (2026, 2026-H1, 2026-Q2, 2026-06, 2026-06-30, 2026-06-30T09:00:00Z); a calendar form means its first instant, so 2026-Q2 is 1 April 2026',
  }),
  knownAt: FuzzyDateInput.optional().meta({
    description:
      'System time: only events recorded by then count (retractions too). Omit for everything recorded so far; ' +
      'a cut-off before the data was recorded finds nothing (a program not yet known is 404). Same forms as asOf',
  }),
};

export const toCutoff = (query: { asOf?: { start: Date } | undefined; knownAt?: { start: Date } | undefined }) => ({
  asOf: query.asOf?.start,
  knownAt: query.knownAt?.start,
});

export const StatusCounts = z
  .object({ planned: z.int(), in_progress: z.int(), achieved: z.int(), missed: z.int(), cancelled: z.int() })
  .meta({ id: 'StatusCounts', description: 'Cells per status' });
type StatusCounts = z.input<typeof StatusCounts>;

export function countStatuses(cells: readonly { status: MilestoneStatus }[]): StatusCounts {
  const counts: StatusCounts = { planned: 0, in_progress: 0, achieved: 0, missed: 0, cancelled: 0 };
  for (const { status } of cells) counts[status] += 1;
  return counts;
}

export const CellOutput = z
  .object({
    consortiumId: z.string().optional().meta({ description: 'Absent for a program-scope milestone' }),
    status: MilestoneStatus,
    since: FuzzyDateOutput.meta({ description: 'occurredAt of the event that set the status' }),
    due: FuzzyDateOutput.optional(),
    overdue: z.boolean(),
    evidenceCount: z.int().meta({ description: 'How many events bear on the cell at the cut-off' }),
    evidence: z
      .array(z.uuid())
      .meta({ description: 'The latest events that bear on the cell (at most 20), newest first in world time' }),
  })
  .meta({ id: 'MilestoneCell' });

export const toCellOutput = (cell: MilestoneCell) => ({
  ...(cell.consortiumId !== undefined && { consortiumId: cell.consortiumId }),
  status: cell.status,
  since: toFuzzyDateOutput(cell.since),
  ...(cell.due !== undefined && { due: toFuzzyDateOutput(cell.due) }),
  overdue: cell.overdue,
  evidenceCount: cell.evidenceCount,
  evidence: [...cell.evidence],
});

export const MilestoneOutput = z
  .object({
    milestone: z.string(),
    title: z.string(),
    scope: MilestoneScope,
    due: FuzzyDateOutput.optional(),
    cells: z.array(CellOutput).meta({ description: 'One cell for program scope; one per enrolled consortium otherwise' }),
    counts: StatusCounts,
  })
  .meta({ id: 'MilestoneStatusView' });

export const toMilestoneOutput = (m: MilestoneView) => ({
  milestone: m.milestone,
  title: m.title,
  scope: m.scope,
  ...(m.due !== undefined && { due: toFuzzyDateOutput(m.due) }),
  cells: m.cells.map(toCellOutput),
  counts: countStatuses(m.cells),
});

export const ProgramOutput = z
  .object({
    programId: z.string(),
    name: z.string(),
    sponsor: z.string().optional(),
    description: z.string().optional(),
    registeredAt: FuzzyDateOutput,
  })
  .meta({ id: 'Program' });

export const toProgramOutput = (p: ProgramSummary) => ({
  programId: p.programId,
  name: p.name,
  ...(p.sponsor !== undefined && { sponsor: p.sponsor }),
  ...(p.description !== undefined && { description: p.description }),
  registeredAt: toFuzzyDateOutput(p.registeredAt),
});

export const ConsortiumOutput = z
  .object({
    consortiumId: z.string(),
    name: z.string(),
    lead: z.string(),
    members: z.array(z.string()),
    models: z.array(z.string()),
    registeredAt: FuzzyDateOutput,
  })
  .meta({ id: 'Consortium' });

export const toConsortiumOutput = (c: ConsortiumSummary) => ({
  ...c,
  members: [...c.members],
  models: [...c.models],
  registeredAt: toFuzzyDateOutput(c.registeredAt),
});
