import type { CsvCell } from '../csv.js';
import { fuzzyDateCsvCells } from './cell-csv.js';
import type { ConsortiumSummary, MilestonePlan, ProgramSummary } from '../../services/status-views.js';

/* The rows of the views other than cells (src/http/schemas/cell-csv.ts): every fuzzy date with its start and end. */

export const PROGRAM_CSV_HEADER = ['programId', 'name', 'sponsor', 'description', 'registeredAt', 'registeredStart', 'registeredEnd'];
export const programCsvRow = (p: ProgramSummary): CsvCell[] => [p.programId, p.name, p.sponsor, p.description, ...fuzzyDateCsvCells(p.registeredAt)];

export const MILESTONE_CSV_HEADER = ['programId', 'milestone', 'title', 'scope', 'due', 'dueStart', 'dueEnd'];
export const milestoneCsvRow = (programId: string, m: MilestonePlan): CsvCell[] => [programId, m.milestone, m.title, m.scope, ...fuzzyDateCsvCells(m.due)];

export const CONSORTIUM_CSV_HEADER = ['consortiumId', 'name', 'lead', 'members', 'models', 'registeredAt', 'registeredStart', 'registeredEnd'];
export const consortiumCsvRow = (c: ConsortiumSummary): CsvCell[] => [
  c.consortiumId,
  c.name,
  c.lead,
  c.members.join('; '),
  c.models.join('; '),
  ...fuzzyDateCsvCells(c.registeredAt),
];
