import type { ColumnType, JSONColumnType, Kysely } from 'kysely';
import type { EventMetadata } from '../domain/recorded-event.js';
import type { Source } from '../domain/source.js';

/** Columns the database fills and nobody writes or changes. */
type Generated<T> = ColumnType<T, never, never>;

/**
 * The event log. Rows are only ever written by the append_events() function (see the migration),
 * so this interface describes what reads return.
 */
export interface EventTable {
  position: Generated<string>;
  id: string;
  type: string;
  schema_version: number;
  stream: string;
  stream_version: number;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Date;
  occurred_end: Date;
  recorded_at: Generated<Date>;
  data: JSONColumnType<Record<string, unknown>>;
  sources: JSONColumnType<Source[]>;
  metadata: JSONColumnType<EventMetadata>;
  program_id: string | null;
  consortium_id: string | null;
  milestone: string | null;
  tx: Generated<string>;
}

export interface StreamTable {
  name: string;
  version: number;
}

export interface RetractionTable {
  event_id: string;
  retracted_by: string;
}

export interface Database {
  event: EventTable;
  stream: StreamTable;
  retraction: RetractionTable;
  milestone_cell: MilestoneCellTable;
}

/** The handle every store function takes; a transaction is one too. */
export type Db = Kysely<Database>;

export interface MilestoneCellTable {
  program_id: string;
  milestone: string;
  /** '' for a program-scope milestone. */
  consortium_id: string;
  status: string;
  since_value: string;
  since_precision: string;
  since_start: Date;
  since_end: Date;
  due_value: string | null;
  evidence: string[];
  last_start: Date;
  last_position: string;
}
