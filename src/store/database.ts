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

/** What exists, and from which event on: checked by every append (see db/functions/append_events.sql). */
export interface ReferenceTable {
  kind: string;
  key: string;
  scope: string | null;
  position: string;
}

export interface RetractionTable {
  event_id: string;
  retracted_by: string;
}

export interface Database {
  event: EventTable;
  stream: StreamTable;
  retraction: RetractionTable;
  reference: ReferenceTable;
  milestone_cell: MilestoneCellTable;
  cell_step: CellStepTable;
  cell_step_span: CellStepSpanTable;
  cell_evidence: CellEvidenceTable;
  event_type_rule: EventTypeRuleTable;
  program_entry: ProgramEntryTable;
  consortium_entry: ConsortiumEntryTable;
  milestone_entry: MilestoneEntryTable;
  enrolment_entry: EnrolmentEntryTable;
  milestone_reschedule: MilestoneRescheduleTable;
  enrolment_elimination: EnrolmentEliminationTable;
  api_key: ApiKeyTable;
  notification: NotificationTable;
  subscription: SubscriptionTable;
  subscription_secret: SubscriptionSecretTable;
  webhook_delivery: WebhookDeliveryTable;
  webhook_attempt: WebhookAttemptTable;
  rate_limit_window: RateLimitWindowTable;
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
  set_by: string;
  evidence_count: number;
  /** The latest evidence ids, newest first in world time, at most CELL_EVIDENCE_LIMIT. */
  evidence: string[];
  exists_start: Date;
  exists_recorded: Date;
  last_start: Date;
  last_position: string;
}

/*
 * The read model (migration 2026-12-01T15-00-00, functions in db/functions). Written only by the
 * database's projection functions; these interfaces describe what reads return.
 */

/** Each type's role in the projection, written from the catalogue at every migration run. */
export interface EventTypeRuleTable {
  type: string;
  role: string;
}

/** An event's place in a cell's timeline: the cell, the event's world key, the event. */
interface CellEventColumns {
  program_id: string;
  milestone: string;
  consortium_id: string;
  v_start: Date;
  v_position: string;
  event_id: string;
}

/** One cell's state once an event is folded in, believed from known_from until known_to. */
export interface CellStepTable extends CellEventColumns {
  known_from: Date;
  known_to: Date;
  status: string;
  since_value: string;
  since_precision: string;
  since_start: Date;
  since_end: Date;
  set_by: string;
  evidential: boolean;
  evidence_count: number;
  /** The latest evidence ids once the event is folded in, newest first in world time, at most CELL_EVIDENCE_LIMIT. */
  evidence: string[];
}

/**
 * A step of a cell's timeline, one an event, from the writing of its first version (born) until a
 * retraction ended it (died; 'infinity' until then), whatever its versions (db/functions/fold_cell.sql).
 */
export interface CellStepSpanTable extends CellEventColumns {
  born: Date;
  died: Date;
}

/** An evidential event of a cell: recorded once, retracted at most once (db/functions/fold_cell.sql). */
export interface CellEvidenceTable extends CellEventColumns {
  recorded_at: Date;
  retracted_at: Date;
}

/** What a defining event says, as recorded, and when it occurred and was recorded. */
interface DefinitionColumns {
  schema_version: number;
  data: JSONColumnType<Record<string, unknown>>;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Date;
  occurred_end: Date;
  recorded_at: Date;
  position: string;
  event_id: string;
}

export interface ProgramEntryTable extends DefinitionColumns {
  program_id: string;
}

export interface ConsortiumEntryTable extends DefinitionColumns {
  consortium_id: string;
}

export interface MilestoneEntryTable extends DefinitionColumns {
  program_id: string;
  milestone: string;
  scope: string;
}

export interface EnrolmentEntryTable extends DefinitionColumns {
  program_id: string;
  consortium_id: string;
}

export interface MilestoneRescheduleTable {
  event_id: string;
  program_id: string;
  milestone: string;
  schema_version: number;
  data: JSONColumnType<Record<string, unknown>>;
  occurred_start: Date;
  position: string;
  recorded_at: Date;
  retracted_at: Date;
}

export interface EnrolmentEliminationTable {
  event_id: string;
  program_id: string;
  consortium_id: string;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Date;
  occurred_end: Date;
  position: string;
  recorded_at: Date;
  retracted_at: Date;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  key_prefix: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

/** Written by triggers in the append transaction (see the notifications migration); read here. */
export interface NotificationTable {
  position: Generated<string>;
  /**
   * Given by every insert, from uuid_v7() (db/functions/uuid_v7.sql). The column keeps its random
   * default so that an instance of the previous release, still running while a new one migrates,
   * can still insert its test pings.
   */
  id: ColumnType<string, string, never>;
  topic: string;
  event_id: string | null;
  program_id: string | null;
  consortium_id: string | null;
  data: JSONColumnType<Record<string, unknown>> | null;
  only_subscription: string | null;
  created_at: Generated<Date>;
  tx: Generated<string>;
}

export interface SubscriptionTable {
  id: string;
  url: string;
  topics: string[];
  program_id: string | null;
  consortium_id: string | null;
  description: string | null;
  status: string;
  disabled_reason: string | null;
  failing_since: Date | null;
  max_in_flight: number;
  created_at: Generated<Date>;
  /** Set by the database on insert; every update sets it too (no trigger keeps it). */
  updated_at: ColumnType<Date, never, Date>;
}

export interface SubscriptionSecretTable {
  id: Generated<string>;
  subscription_id: string;
  secret: string;
  created_at: Generated<Date>;
  expires_at: Date | null;
}

export interface WebhookDeliveryTable {
  id: Generated<string>;
  notification_id: string;
  notification_position: string;
  subscription_id: string;
  state: string;
  attempt_count: number;
  /** attempt_count when the delivery's retry schedule began: at its creation, or when it was queued again by hand. */
  schedule_start: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date;
  next_trigger: ColumnType<string, string | undefined, string>;
  lease_id: string | null;
  lease_until: Date | null;
  /** The instance holding the lease, and when it took it (logged if the lease runs out). */
  leased_by: string | null;
  leased_at: Date | null;
  /** The lease_id the holder took: the holder is believed only while it is the current lease's. */
  leased_for: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  completed_at: Date | null;
}

export interface WebhookAttemptTable {
  id: Generated<string>;
  delivery_id: string;
  attempt_no: number;
  trigger: string;
  instance: string;
  started_at: Date;
  duration_ms: number;
  response_status: number | null;
  error_kind: string | null;
  error_detail: string | null;
  response_body: string | null;
}

export interface RateLimitWindowTable {
  bucket: string;
  started_at: Date;
  hits: number;
}
