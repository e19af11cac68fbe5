import { z } from 'zod';
import { MilestoneStatus } from '../../domain/milestone-status.js';
import { MilestoneScope } from '../../domain/event-data.js';
import { FuzzyDateInput, type FuzzyDate } from '../../domain/fuzzy-date.js';
import { endBound, lastCovered, type Cutoff } from '../../domain/cut-off.js';
import type { ConsortiumSummary, MilestoneCell, MilestoneView, ProgramSummary } from '../../services/status-views.js';
import { FuzzyDateOutput, toFuzzyDateOutput } from '../../domain/event-envelope.js';
import type { EvidenceEntry } from '../../domain/evidence.js';
import { Source } from '../../domain/source.js';
import type { ResolvedColumns } from '../csv.js';

/** asOf and knownAt, accepted by every view (SPEC §2.1: a calendar form stands for the end of its period). */
export const CutoffQuery = {
  asOf: FuzzyDateInput.optional().meta({
    description:
      'World time: only events that had begun by then count, and overdue and certainty are judged then. Omit for now. ' +
      'Any precision (2026, 2026-H1, 2026-Q2, 2026-06, 2026-06-30, 2026-06-30T09:00:00Z); a calendar form covers its whole period: asOf=2026-06 is the end of June',
  }),
  knownAt: FuzzyDateInput.optional().meta({
    description:
      'System time: only events recorded by then count (retractions too): "what did we believe on K". Omit for everything recorded so far; ' +
      'a cut-off before the data was recorded finds nothing (a program not yet known is 404). Same forms as asOf; an instant covers its millisecond. ' +
      'One not settled yet (an append under way recorded before it, or in the future) is answered at the first instant settled, which cutoff.knownAt gives; ' +
      "a list's nextCursor keeps that instant, so later pages asked with it and the same knownAt answer there",
  }),
};

export const toCutoff = (query: { asOf?: FuzzyDate | undefined; knownAt?: FuzzyDate | undefined }): Cutoff => ({
  worldBefore: query.asOf === undefined ? undefined : endBound(query.asOf),
  knownBefore: query.knownAt === undefined ? undefined : endBound(query.knownAt),
});

export const CutoffEcho = z
  .object({
    asOf: z.iso.datetime().optional().meta({ description: 'The last instant asOf covers, as resolved' }),
    knownAt: z.iso.datetime().optional().meta({ description: 'The last instant knownAt covers, as resolved: for one not settled when asked, the last settled instant' }),
  })
  .meta({ id: 'ResolvedCutoff', description: 'The instants the cut-offs were resolved to; empty without cut-offs' });

export const toCutoffEcho = (cut: Cutoff) => ({
  ...(cut.worldBefore !== undefined && { asOf: lastCovered(cut.worldBefore).toISOString() }),
  ...(cut.knownBefore !== undefined && { knownAt: lastCovered(cut.knownBefore).toISOString() }),
});

/**
 * The instant a view judged overdue and certainty at (SPEC §2.1): the asOf as resolved, or without
 * one the moment of the request, which a saved answer (a CSV above all) could not tell otherwise.
 */
export const JudgedAt = z.iso.datetime().meta({
  description: 'The instant overdue and certainty were judged at: the asOf as resolved, or without one the moment of the request',
});

/** As asOf is echoed: the last instant covered by the bound the view judged at (asOf's, or the request's moment). */
export const toJudgedAt = (cut: Cutoff, now: Date): string => lastCovered(cut.worldBefore ?? now).toISOString();

/** The cut-offs as CSV columns, both always there (empty when not given), as the JSON's `cutoff`. */
export const toCutoffColumns = (cut: Cutoff): ResolvedColumns => {
  const echo = toCutoffEcho(cut);
  return { cutoffAsOf: echo.asOf, cutoffKnownAt: echo.knownAt };
};

export const StatusCounts = z
  .object({ planned: z.int().min(0), in_progress: z.int().min(0), achieved: z.int().min(0), missed: z.int().min(0), cancelled: z.int().min(0) })
  .meta({ id: 'StatusCounts', description: 'Cells per status' });
type StatusCounts = z.input<typeof StatusCounts>;

export function countStatuses(cells: readonly { status: MilestoneStatus }[]): StatusCounts {
  const counts: StatusCounts = { planned: 0, in_progress: 0, achieved: 0, missed: 0, cancelled: 0 };
  for (const { status } of cells) counts[status] += 1;
  return counts;
}

export const EvidenceEntryOutput = z
  .object({
    id: z.uuid(),
    type: z.string(),
    occurredAt: FuzzyDateOutput,
    title: z.string().meta({ description: 'A short title: the event\'s own, else what it names' }),
    sources: z.array(Source),
  })
  .meta({ id: 'EvidenceEntry' });

export const toEvidenceEntryOutput = (entry: EvidenceEntry) => ({
  id: entry.id,
  type: entry.type,
  occurredAt: toFuzzyDateOutput(entry.occurredAt),
  title: entry.title,
  sources: [...entry.sources],
});

/** `expand=evidence`: each cell's evidence as entries with their sources, not bare ids. */
export const ExpandQuery = {
  expand: z.enum(['evidence']).optional().meta({ description: 'evidence: show each evidence entry with its type, date, title and sources' }),
};

export const CellOutput = z
  .object({
    consortiumId: z.string().optional().meta({ description: 'Absent for a program-scope milestone' }),
    status: MilestoneStatus,
    since: FuzzyDateOutput.meta({ description: 'occurredAt of the event that set the status' }),
    due: FuzzyDateOutput.optional(),
    overdue: z.boolean(),
    certain: z.boolean().meta({
      description: 'Whether the event that set the status had certainly happened by the cut-off (its interval had ended), or only possibly',
    }),
    evidenceCount: z.int().min(0).meta({ description: 'How many events bear on the cell at the cut-off' }),
    evidence: z
      .union([z.array(z.uuid()), z.array(EvidenceEntryOutput)])
      .meta({
        description:
          'The latest events that bear on the cell (at most 20), newest first in world time: their ids, ' +
          'or with expand=evidence each with its type, date, title and sources',
      }),
  })
  .meta({ id: 'MilestoneCell' });

const toOptionalOutput = (date: FuzzyDate | undefined) => (date === undefined ? undefined : toFuzzyDateOutput(date));

/** `due`: the cell's due date written already (its milestone's, shared by every cell of it). */
export const toCellOutput = (cell: MilestoneCell, due = toOptionalOutput(cell.due)) => ({
  ...(cell.consortiumId !== undefined && { consortiumId: cell.consortiumId }),
  status: cell.status,
  since: toFuzzyDateOutput(cell.since),
  ...(due !== undefined && { due }),
  overdue: cell.overdue,
  certain: cell.certain,
  evidenceCount: cell.evidenceCount,
  evidence: cell.evidenceEntries === undefined ? [...cell.evidence] : cell.evidenceEntries.map(toEvidenceEntryOutput),
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

export const toMilestoneOutput = (m: MilestoneView) => {
  // Written once, not once a cell: on a busy matrix, writing dates was a twentieth of the CPU in Node,
  // and half of them were the due date again.
  const due = toOptionalOutput(m.due);
  return {
    milestone: m.milestone,
    title: m.title,
    scope: m.scope,
    ...(due !== undefined && { due }),
    cells: m.cells.map((cell) => toCellOutput(cell, cell.due === m.due ? due : toOptionalOutput(cell.due))),
    counts: countStatuses(m.cells),
  };
};

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
