import { Precision, type FuzzyDate } from '../domain/fuzzy-date.js';

/* The read model's rows as the views read them: definitions, fuzzy dates, instants. */

export interface Definition {
  readonly data: Record<string, unknown>;
  readonly schemaVersion: number;
  readonly occurredAt: FuzzyDate;
}

/**
 * An instant as a row brings it: a Date from the driver, or text (ISO 8601 with an offset) from a
 * row the database wrote as JSON, as a view's one statement brings its parts (findProgramParts).
 */
export type Instant = Date | string;
const instant = (value: Instant): Date => (typeof value === 'string' ? new Date(value) : value);

export interface DefinitionRow {
  data: Record<string, unknown>;
  schema_version: number;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Instant;
  occurred_end: Instant;
}

export const toFuzzy = (value: string, precision: string, start: Instant, end: Instant): FuzzyDate => ({
  value,
  precision: Precision.parse(precision),
  start: instant(start),
  end: instant(end),
});

export const toDefinition = (row: DefinitionRow): Definition => ({
  data: row.data,
  schemaVersion: row.schema_version,
  occurredAt: toFuzzy(row.occurred_value, row.occurred_precision, row.occurred_start, row.occurred_end),
});

export const DEFINITION_COLUMNS = ['data', 'schema_version', 'occurred_value', 'occurred_precision', 'occurred_start', 'occurred_end'] as const;

/** A row the database wrote as JSON: its instants are text. */
export type AsJson<T> = { [K in keyof T]: T[K] extends Instant ? string : T[K] extends Instant | null ? string | null : T[K] };
