import type { CsvCell } from '../csv.js';
import type { MilestoneCell } from '../../services/status-views.js';

/** The columns of a cell in every CSV view: each fuzzy date with its start and end, and the evidence's sources. */
export const CELL_CSV_HEADER = [
  'status',
  'certain',
  'since',
  'sinceStart',
  'sinceEnd',
  'due',
  'dueStart',
  'dueEnd',
  'overdue',
  'evidenceCount',
  'evidence',
  'sources',
] as const;

export function cellCsvRow(cell: MilestoneCell): CsvCell[] {
  const sources = (cell.evidenceEntries ?? []).flatMap((entry) => entry.sources.map((source) => source.url));
  return [
    cell.status,
    cell.certain,
    cell.since.value,
    cell.since.start.toISOString(),
    cell.since.end.toISOString(),
    cell.due?.value,
    cell.due?.start.toISOString(),
    cell.due?.end.toISOString(),
    cell.overdue,
    cell.evidenceCount,
    cell.evidence.join(' '),
    [...new Set(sources)].join(' '),
  ];
}
