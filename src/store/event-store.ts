import { sql, type Kysely, type Selectable } from 'kysely';
import { z } from 'zod';
import {
  AlreadyDefinedError,
  CommitOutcomeUnknownError,
  DatabaseUnavailableError,
  IdempotencyKeyReusedError,
  RetractionRefusedError,
  UnknownReferenceError,
  VersionConflictError,
} from '../domain/errors.js';
import type { EventSubject } from '../domain/event-references.js';
import { Precision, type FuzzyDate } from '../domain/fuzzy-date.js';
import type { EventMetadata, RecordedEvent } from '../domain/recorded-event.js';
import type { Source } from '../domain/source.js';
import type { Database, Db, EventTable } from './database.js';
import { encodeCursor, FEED_START, type FeedCursor } from './feed-cursor.js';

/** One event ready to be appended: validated, identified, with its subject derived. */
export interface AppendItem {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly expectedVersion: number | undefined;
  readonly occurredAt: FuzzyDate;
  readonly data: unknown;
  readonly sources: readonly Source[];
  readonly metadata: EventMetadata;
  readonly subject: EventSubject;
}

export interface AppendRequest {
  readonly actor: string;
  readonly idempotencyKey: string | undefined;
  /** A digest of the request body: the same key with another body is refused. */
  readonly requestHash: string | undefined;
}

type EventRow = Omit<Selectable<EventTable>, 'tx'> & { tx: string };

const EVENT_COLUMNS = [
  'position',
  'id',
  'type',
  'schema_version',
  'stream',
  'stream_version',
  'occurred_value',
  'occurred_precision',
  'occurred_start',
  'occurred_end',
  'recorded_at',
  'data',
  'sources',
  'metadata',
  'program_id',
  'consortium_id',
  'milestone',
] as const;

const txText = sql<string>`tx::text`.as('tx');

/**
 * Appends a batch atomically in one round trip (the append_events() function): checks expected
 * versions, references and retractions, assigns stream versions and positions, and replays the
 * original events when the idempotency key was seen before with the same body.
 */
export async function appendEvents(
  db: Kysely<Database>,
  items: readonly AppendItem[],
  request: AppendRequest,
): Promise<RecordedEvent[]> {
  const payload = JSON.stringify(items.map(toFunctionInput));
  try {
    const rows = await db
      .selectFrom(
        sql<Selectable<EventTable>>`append_events(${payload}::jsonb, ${request.actor}, ${request.idempotencyKey ?? null}, ${request.requestHash ?? null})`.as(
          'event',
        ),
      )
      .select([...EVENT_COLUMNS, txText])
      .orderBy('position')
      .execute();
    return rows.map(toRecordedEvent);
  } catch (error) {
    throw translateAppendError(error, request);
  }
}

function toFunctionInput(item: AppendItem, ordinal: number) {
  const { subject } = item;
  return {
    ordinal,
    id: item.id,
    type: item.type,
    schema_version: item.schemaVersion,
    stream: subject.stream ?? null,
    expected_version: item.expectedVersion ?? null,
    occurred_value: item.occurredAt.value,
    occurred_precision: item.occurredAt.precision,
    occurred_start: item.occurredAt.start.toISOString(),
    occurred_end: item.occurredAt.end.toISOString(),
    data: item.data,
    sources: item.sources,
    metadata: item.metadata,
    program_id: subject.programId ?? null,
    consortium_id: subject.consortiumId ?? null,
    milestone: subject.milestone ?? null,
    retracts: subject.retracts ?? null,
    requires: subject.requires,
    defines: subject.defines,
  };
}

const ReferenceKind = z.enum(['program', 'consortium', 'milestone', 'enrolment']);
const ConflictDetail = z.object({ ordinal: z.int(), stream: z.string(), expectedVersion: z.int(), currentVersion: z.int() });
const ReferenceDetail = z.object({
  ordinal: z.int(),
  kind: ReferenceKind,
  key: z.string(),
  reason: z.enum(['unknown', 'consortium_required', 'not_enrolled']),
});
const DuplicateDetail = z.object({ ordinal: z.int(), kind: ReferenceKind, key: z.string() });
const RetractionDetail = z.object({
  ordinal: z.int().nullable(),
  eventId: z.string().nullable(),
  targetType: z.string().nullable(),
  alreadyRetracted: z.boolean().nullable(),
});

const DatabaseFailure = z.object({ code: z.string(), detail: z.string().optional() });

/** Turns the ML* SQLSTATEs raised by append_events() into domain errors; anything else passes through. */
function translateAppendError(error: unknown, request: AppendRequest): unknown {
  // The append is one autocommit statement: once sent, a lost connection may have come before or after its commit.
  if (error instanceof DatabaseUnavailableError && error.querySent) return new CommitOutcomeUnknownError(request.idempotencyKey, { cause: error });
  const failure = DatabaseFailure.safeParse(error);
  // Only our own ML* errors carry a JSON detail; any other error keeps its cause for the log.
  if (!failure.success || !failure.data.code.startsWith('ML')) return error;
  const { code, detail = '{}' } = failure.data;
  const details: unknown = JSON.parse(detail);
  switch (code) {
    case 'MLIDK':
      return new IdempotencyKeyReusedError(request.idempotencyKey ?? '');
    case 'MLVER': {
      const d = ConflictDetail.parse(details);
      return new VersionConflictError(d.ordinal, d.stream, d.expectedVersion, d.currentVersion);
    }
    case 'MLREF': {
      const d = ReferenceDetail.parse(details);
      return new UnknownReferenceError(d.ordinal, d.kind, d.key, d.reason);
    }
    case 'MLDUP': {
      const d = DuplicateDetail.parse(details);
      return new AlreadyDefinedError(d.ordinal, d.kind, d.key);
    }
    case 'MLRET': {
      const d = RetractionDetail.parse(details);
      const reason = d.alreadyRetracted ? 'already_retracted' : d.targetType === null ? 'unknown_event' : 'not_retractable';
      return new RetractionRefusedError(d.ordinal ?? 0, d.eventId ?? '', reason, d.targetType ?? undefined);
    }
    default:
      return error;
  }
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    stream: row.stream,
    streamVersion: row.stream_version,
    position: Number(row.position),
    occurredAt: {
      value: row.occurred_value,
      precision: Precision.parse(row.occurred_precision),
      start: row.occurred_start,
      end: row.occurred_end,
    },
    recordedAt: row.recorded_at,
    data: row.data,
    sources: row.sources,
    metadata: row.metadata,
  };
}

export async function findEvent(db: Kysely<Database>, id: string): Promise<RecordedEvent | undefined> {
  const row = await db.selectFrom('event').select([...EVENT_COLUMNS, txText]).where('id', '=', id).executeTakeFirst();
  return row && toRecordedEvent(row);
}

export interface StreamPage {
  readonly events: RecordedEvent[];
  readonly version: number;
}

/** Events of one stream from `fromVersion` on, and the stream's current version (0 if it has none). */
export async function readStream(
  db: Kysely<Database>,
  stream: string,
  fromVersion: number,
  limit: number,
): Promise<StreamPage> {
  const [rows, head] = await Promise.all([
    db
      .selectFrom('event')
      .select([...EVENT_COLUMNS, txText])
      .where('stream', '=', stream)
      .where('stream_version', '>=', fromVersion)
      .orderBy('stream_version')
      .limit(limit)
      .execute(),
    db.selectFrom('stream').select('version').where('name', '=', stream).executeTakeFirst(),
  ]);
  return { events: rows.map(toRecordedEvent), version: head?.version ?? 0 };
}

export interface FeedFilter {
  readonly types?: readonly string[] | undefined;
  readonly stream?: string | undefined;
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
}

export interface FeedPage {
  readonly events: RecordedEvent[];
  readonly nextCursor: string;
}

/**
 * The global feed after `cursor`, in (transaction id, position) order, holding back every event
 * whose transaction may still be running or may not yet be visible: only transactions older than
 * the oldest running one are read, so an event committed late by a slow writer is never skipped
 * (research/event-stores.md §4, T1).
 */
export async function readFeed(
  db: Kysely<Database>,
  after: FeedCursor | undefined,
  limit: number,
  filter: FeedFilter,
): Promise<FeedPage> {
  const from = after ?? FEED_START;
  let query = db
    .selectFrom('event')
    .select([...EVENT_COLUMNS, txText])
    .where(sql<boolean>`(tx, position) > (${from.tx}::xid8, ${from.position}::bigint)`)
    .where(sql<boolean>`tx < pg_snapshot_xmin(pg_current_snapshot())`);
  if (filter.types !== undefined && filter.types.length > 0) query = query.where('type', 'in', filter.types);
  if (filter.stream !== undefined) query = query.where('stream', '=', filter.stream);
  if (filter.programId !== undefined) query = query.where('program_id', '=', filter.programId);
  if (filter.consortiumId !== undefined) query = query.where('consortium_id', '=', filter.consortiumId);
  // Qualified: a bare `tx` would sort by the selected text column, and '1000' < '999'.
  const rows = await query.orderBy(sql`event.tx`).orderBy('event.position').limit(limit).execute();
  const last = rows.at(-1);
  const next = last ? { tx: last.tx, position: last.position } : from;
  return { events: rows.map(toRecordedEvent), nextCursor: encodeCursor(next) };
}

export interface EventSelection {
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  readonly types?: readonly string[] | undefined;
}

/**
 * Every event about a program and/or a consortium, or of some types, in position order,
 * retractions included (they carry the subject of the event they retract).
 */
export async function selectEvents(db: Db, selection: EventSelection): Promise<RecordedEvent[]> {
  let query = db.selectFrom('event').select([...EVENT_COLUMNS, txText]);
  if (selection.programId !== undefined) query = query.where('program_id', '=', selection.programId);
  if (selection.consortiumId !== undefined) query = query.where('consortium_id', '=', selection.consortiumId);
  if (selection.types !== undefined) query = query.where('type', 'in', [...selection.types, 'event.retracted']);
  const rows = await query.orderBy('event.position').execute();
  return rows.map(toRecordedEvent);
}

/** The events with these ids, by id (those that do not exist are missing from the map). */
export async function findEventsByIds(db: Db, ids: readonly string[]): Promise<Map<string, RecordedEvent>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('event').select([...EVENT_COLUMNS, txText]).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.id, toRecordedEvent(row)]));
}
