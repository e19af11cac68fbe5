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
  due_value: string | null;
  evidence: string[];
  last_start: Date;
  last_position: string;
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
  id: Generated<string>;
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
  next_attempt_at: Date;
  next_trigger: ColumnType<string, string | undefined, string>;
  lease_id: string | null;
  lease_until: Date | null;
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
