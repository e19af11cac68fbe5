import type { CsvCell } from '../csv.js';
import type { FuzzyDate } from '../../domain/fuzzy-date.js';
import type { MilestoneCell } from '../../services/status-views.js';

/** A fuzzy date as every CSV view writes it: its value, then the instants it stands for (…Start, …End). */
export const fuzzyDateCsvCells = (date: FuzzyDate | undefined): CsvCell[] => [date?.value, date?.start.toISOString(), date?.end.toISOString()];

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
    ...fuzzyDateCsvCells(cell.since),
    ...fuzzyDateCsvCells(cell.due),
    cell.overdue,
    cell.evidenceCount,
    cell.evidence.join(' '),
    [...new Set(sources)].join(' '),
  ];
}

/**
 * The cell columns of a row with no cell: a milestone that has none at the cut (planned for
 * consortiums, none of them enrolled yet), empty but for its due date, or a program of a
 * consortium's with none of its cells, all empty; so that a spreadsheet lists every milestone and
 * program the JSON does. An empty status tells it from a program-scope cell, whose consortiumId is
 * empty too.
 */
export function noCellCsvRow(due?: FuzzyDate): CsvCell[] {
  const [value, start, end] = fuzzyDateCsvCells(due);
  const filled: Partial<Record<(typeof CELL_CSV_HEADER)[number], CsvCell>> = { due: value, dueStart: start, dueEnd: end };
  return CELL_CSV_HEADER.map((column) => filled[column]);
}
