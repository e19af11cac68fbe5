import { sql, type InferResult, type Kysely, type Selectable } from 'kysely';
import { z } from 'zod';
import {
  AlreadyDefinedError,
  CommitOutcomeUnknownError,
  DatabaseUnavailableError,
  IdempotencyKeyReusedError,
  InvalidCursorError,
  RetractionRefusedError,
  UnknownReferenceError,
  VersionConflictError,
} from '../domain/errors.js';
import type { EventSubject } from '../domain/event-references.js';
import { Precision, type FuzzyDate } from '../domain/fuzzy-date.js';
import type { EventMetadata, RecordedEvent } from '../domain/recorded-event.js';
import type { Source } from '../domain/source.js';
import { upcast } from '../domain/upcasting.js';
import type { Database, Db, EventTable } from './database.js';
import { APPEND_ERROR_CODES, isAppendErrorCode } from './append-error-codes.js';
import { encodeCursor, FEED_START, type FeedCursor } from './feed-cursor.js';
import { isReachedCursor, readFeedPage, UNREACHED_CURSOR } from './feed-walk.js';
import type { WorldKey } from './page-cursor.js';
import { PREPARED } from './prepared-statement.js';
import { cutStandIns } from './read-cut.js';
import { optionalWorldKey, shapedStatement } from './shaped-statement.js';

/** One event ready to be appended: validated, identified, with its subject derived. */
export interface AppendItem {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly expectedVersion: number | undefined;
  /** Absent for a retraction that gives none: the store then takes its recordedAt. */
  readonly occurredAt: FuzzyDate | undefined;
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
    throw translateAppendError(error, items, request);
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
    occurred_value: item.occurredAt?.value ?? null,
    occurred_precision: item.occurredAt?.precision ?? null,
    occurred_start: item.occurredAt?.start.toISOString() ?? null,
    occurred_end: item.occurredAt?.end.toISOString() ?? null,
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

const ReferenceKind = z.enum(['program', 'consortium', 'milestone', 'enrolment', 'participant']);
const ConflictDetail = z.object({ ordinal: z.int(), stream: z.string(), expectedVersion: z.int(), currentVersion: z.int() });
const ReferenceDetail = z.object({
  ordinal: z.int(),
  kind: ReferenceKind,
  key: z.string(),
  reason: z.enum(['unknown', 'consortium_required', 'not_enrolled', 'not_participant']),
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
function translateAppendError(error: unknown, items: readonly AppendItem[], request: AppendRequest): unknown {
  // The append is one autocommit statement: once sent, a lost connection may have come before or after its commit.
  if (error instanceof DatabaseUnavailableError && error.querySent) return new CommitOutcomeUnknownError(request.idempotencyKey, { cause: error });
  const failure = DatabaseFailure.safeParse(error);
  // Only our own ML* errors carry a JSON detail; any other error keeps its cause for the log.
  if (!failure.success || !isAppendErrorCode(failure.data.code)) return error;
  const { code, detail = '{}' } = failure.data;
  const details: unknown = JSON.parse(detail);
  switch (code) {
    case APPEND_ERROR_CODES.idempotencyKeyReused:
      return new IdempotencyKeyReusedError(request.idempotencyKey ?? '');
    case APPEND_ERROR_CODES.versionConflict: {
      const d = ConflictDetail.parse(details);
      return new VersionConflictError(d.ordinal, d.stream, d.expectedVersion, d.currentVersion);
    }
    case APPEND_ERROR_CODES.unknownReference: {
      const d = ReferenceDetail.parse(details);
      // The requirement refused, among the event's own: it says where the event names it.
      const required = items[d.ordinal]?.subject.requires.find((r) => r.kind === d.kind && r.key === d.key);
      return new UnknownReferenceError(d.ordinal, d.kind, d.key, d.reason, required?.field);
    }
    case APPEND_ERROR_CODES.alreadyDefined: {
      const d = DuplicateDetail.parse(details);
      return new AlreadyDefinedError(d.ordinal, d.kind, d.key);
    }
    case APPEND_ERROR_CODES.retractionRefused: {
      const d = RetractionDetail.parse(details);
      const reason = d.alreadyRetracted ? 'already_retracted' : d.targetType === null ? 'unknown_event' : 'not_retractable';
      return new RetractionRefusedError(d.ordinal ?? 0, d.eventId ?? '', reason, d.targetType ?? undefined);
    }
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

/** A stored row as readers see it: its data upcast to the type's current schema version. */
function toRecordedEvent(row: EventRow): RecordedEvent {
  const { schemaVersion, data } = upcast(row.type, { schemaVersion: row.schema_version, data: row.data });
  return {
    id: row.id,
    type: row.type,
    schemaVersion,
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
    data,
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
  // A stream's versions start at 1, and a page holds one event at least: otherwise the re-read below would never end.
  if (fromVersion < 1 || limit < 1) throw new RangeError(`readStream: fromVersion ${fromVersion} and limit ${limit} must be 1 or more`);
  // The head is read with the events, in one snapshot: read apart, an append between the two could
  // make the version disagree with the page (older than its last event, or newer than an empty
  // page), and a writer passing it on as expectedVersion would be refused, or pass unseen events.
  for (;;) {
    const rows = await db
      .selectFrom('event')
      .select([...EVENT_COLUMNS, txText, sql<number>`(select s.version from stream s where s.name = ${stream})`.as('head')])
      .where('stream', '=', stream)
      .where('stream_version', '>=', fromVersion)
      .orderBy('stream_version')
      .limit(limit)
      .execute();
    if (rows[0] !== undefined) return { events: rows.map(toRecordedEvent), version: rows[0].head };
    // No event from fromVersion on: the head, read now, agrees with that unless an append came
    // between the two reads, whose events are then read (they stay: events are never removed).
    const head = (await db.selectFrom('stream').select('version').where('name', '=', stream).executeTakeFirst())?.version ?? 0;
    if (head < fromVersion) return { events: [], version: head };
  }
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
 *
 * Filtered by type, stream, program or consortium, a page walks the indexes of its filters
 * (feed-walk.ts, readFeedPage).
 */
export async function readFeed(
  db: Kysely<Database>,
  after: FeedCursor | undefined,
  limit: number,
  filter: FeedFilter,
): Promise<FeedPage> {
  const from = after ?? FEED_START;
  const keys = [
    ['stream', filter.stream],
    ['consortium_id', filter.consortiumId],
    ['program_id', filter.programId],
  ] as const;
  const rows = await readFeedPage<EventRow>(db, { table: 'event', keys, kind: 'type', kinds: [...new Set(filter.types ?? [])], more: [] }, EVENT_COLUMNS, from, limit);
  // Only a page that found nothing can have been read from a cursor past the database's
  // transactions; it costs a reader at the head one statement more.
  if (after !== undefined && rows.length === 0 && !(await isReachedCursor(db, after))) {
    throw new InvalidCursorError(encodeCursor('events', after), 'after', UNREACHED_CURSOR);
  }
  const last = rows.at(-1);
  const next = last ? { tx: last.tx, position: last.position } : from;
  return { events: rows.map(toRecordedEvent), nextCursor: encodeCursor('events', next) };
}

/**
 * The events with these ids, by id (those that do not exist are missing from the map). The ids go
 * as one array: a parameter each would stop at the protocol's 65,535 (a matrix's evidence, expanded).
 */
export async function findEventsByIds(db: Db, ids: readonly string[]): Promise<Map<string, RecordedEvent>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('event')
    .select([...EVENT_COLUMNS, txText])
    .where(sql<boolean>`id = any (${ids}::uuid[])`)
    .execute();
  return new Map(rows.map((row) => [row.id, toRecordedEvent(row)]));
}

export interface TimelineSelection {
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  /** Events whose occurredAt begins at or after `from` and before `toBefore`. */
  readonly from?: Date | undefined;
  readonly toBefore?: Date | undefined;
  /** World time, exclusive: events that began before it. */
  readonly worldBefore?: Date | undefined;
  /** System time, exclusive: events, and retractions, recorded before it. */
  readonly knownBefore?: Date | undefined;
}

export interface TimelineRow {
  readonly event: RecordedEvent;
  readonly retractedBy: string | undefined;
}

export interface TimelinePage {
  readonly rows: readonly TimelineRow[];
  /** Where the next page starts, when the scan stopped before the end of the range. */
  readonly next: WorldKey | undefined;
}

/** How many index entries one page may read for each entry it may return. */
const SCAN_PER_ENTRY = 4;

/**
 * A page of events in world-time order (occurred start, then position) after `after`, retractions
 * left out and retracted events marked: range scans of an index, which together read at most
 * SCAN_PER_ENTRY × limit entries (and, for a page read again in one snapshot, its first scan once
 * more: limit and an eighth). Entries that a filter rejects (recorded after knownAt, a retraction)
 * count towards that, so a page may hold fewer than `limit` events and still have a next one: no
 * request's work grows with the history, whatever the cut-off. The first scan asks for a little
 * more than `limit`, and a next one only for what rejected entries left short: whole events are
 * fetched from the table one by one, and on a large log each is a page read.
 */
export async function readTimeline(
  db: Db,
  selection: TimelineSelection,
  after: WorldKey | undefined,
  limit: number,
): Promise<TimelinePage> {
  // Most pages take one scan. A page that needs more is read again, all its scans in one snapshot:
  // an append committed between two scans would otherwise show on part of the page only (a
  // retraction marking the events of the second scan and not those of the first). A caller's own
  // transaction is the snapshot it chose.
  if (db.isTransaction) return scanAll(db, selection, after, limit);
  const single = await scanPage(db, selection, after, limit, 1);
  if (single !== undefined) return single;
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => scanAll(trx, selection, after, limit));
}

async function scanAll(db: Db, selection: TimelineSelection, after: WorldKey | undefined, limit: number): Promise<TimelinePage> {
  const whole = await scanPage(db, selection, after, limit, Number.POSITIVE_INFINITY);
  if (whole === undefined) throw new Error('a timeline page without a bound on its scans stopped short');
  return whole;
}

/** The page, from at most `maxScans` scans; undefined when it needs more. */
async function scanPage(
  db: Db,
  selection: TimelineSelection,
  after: WorldKey | undefined,
  limit: number,
  maxScans: number,
): Promise<TimelinePage | undefined> {
  const budget = limit * SCAN_PER_ENTRY;
  const kept: TimelineScanRow[] = [];
  let read = 0;
  let resumeAfter = after;
  let want = Math.min(budget, limit + Math.ceil(limit / 8));
  let last: TimelineScanRow | undefined;
  for (let scans = 1; ; scans++) {
    const scanned = await scanWorldOrder(db, selection, resumeAfter, want);
    read += scanned.length;
    kept.push(...scanned.filter((row) => row.known && row.role !== 'retraction'));
    last = scanned.at(-1) ?? last;
    const exhausted = scanned.length < want;
    if (kept.length >= limit || exhausted || read >= budget || last === undefined) {
      // A full page resumes after its last event, unless the log was read to its end with nothing
      // more kept (the last page has no cursor); a page cut short by the budget resumes after the
      // last entry read.
      const lastKept = kept[limit - 1];
      const more = kept.length > limit || !exhausted;
      const resumeAt = lastKept !== undefined ? (more ? lastKept : undefined) : !exhausted && read >= budget ? last : undefined;
      return page(kept.slice(0, limit), resumeAt);
    }
    if (scans >= maxScans) return undefined;
    resumeAfter = { start: last.occurred_start, position: last.position };
    // Twice what is missing, and at least twice the last ask: rejected entries come in runs (a
    // burst of retractions; under knownAt, everything recorded later), which a fixed ask would
    // cross a few rows a statement.
    want = Math.min(budget - read, Math.max(2 * (limit - kept.length), 2 * want));
  }
}

const page = (kept: readonly TimelineScanRow[], resumeAt: TimelineScanRow | undefined): TimelinePage => ({
  rows: kept.map((row) => ({ event: toRecordedEvent(row), retractedBy: row.retracted_by ?? undefined })),
  next: resumeAt === undefined ? undefined : { start: resumeAt.occurred_start, position: resumeAt.position },
});

interface TimelineScan {
  readonly selection: TimelineSelection;
  readonly after: WorldKey | undefined;
  readonly count: number;
  /**
   * Whether it runs in a transaction (a page read again in one snapshot): there it is never
   * prepared. A transaction plans under the server's own settings (callback-query-pool.ts), and a
   * generic plan made there, which could scan a subject's events and sort them, would stay the
   * connection's for the statement, outside transactions too.
   */
  readonly inTransaction: boolean;
}

/**
 * The next `count` events of the selection in world-time order, each with what the page filters on.
 * Prepared (prepared-statement.ts) when it names one subject, or none, outside a transaction: a
 * walk of that subject's world-order index (or the log's) from the cursor, whatever the parameters,
 * which planning for them each time cost more than running (on a 20k history, the busy program's
 * first page: 1.8–2.1 ms a statement planned each time, a bitmap scan of the program's events and
 * a sort, 0.6–0.9 prepared, psql, 2026-12-05). With a program and a consortium both, which of their indexes to walk
 * depends on how many events each has, and it is planned for them each time.
 */
function timelineScanQuery(db: Db, { selection, after, count, inTransaction }: TimelineScan) {
  const { programId, consortiumId, from, toBefore, worldBefore, knownBefore } = selection;
  let scan = db
    .selectFrom('event')
    .select([...EVENT_COLUMNS, txText])
    .orderBy('occurred_start')
    .orderBy('position')
    .limit(count);
  if (programId !== undefined) scan = scan.where('program_id', '=', programId);
  if (consortiumId !== undefined) scan = scan.where('consortium_id', '=', consortiumId);
  if (from !== undefined) scan = scan.where('occurred_start', '>=', from);
  if (toBefore !== undefined) scan = scan.where('occurred_start', '<', toBefore);
  if (worldBefore !== undefined) scan = scan.where('occurred_start', '<', worldBefore);
  if (after !== undefined) {
    scan = scan.where(sql<boolean>`(occurred_start, position) > (${after.start}::timestamptz, ${after.position}::bigint)`);
  }
  return db
    .selectFrom(scan.as('e'))
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('retraction as x')
          .innerJoin('event as rx', 'rx.id', 'x.retracted_by')
          .select('x.retracted_by')
          .whereRef('x.event_id', '=', 'e.id')
          .$if(knownBefore !== undefined, (q) => q.where('rx.recorded_at', '<', knownBefore ?? new Date(0)))
          .limit(1)
          .as('r'),
      (join) => join.onTrue(),
    )
    .leftJoin('event_type_rule as t', 't.type', 'e.type')
    .selectAll('e')
    .select(['r.retracted_by', 't.role', sql<boolean>`${knownBefore === undefined ? sql`true` : sql`e.recorded_at < ${knownBefore}::timestamptz`}`.as('known')])
    .orderBy('e.occurred_start')
    .orderBy('e.position')
    .$if(!inTransaction && (programId === undefined || consortiumId === undefined), (q) => q.modifyEnd(PREPARED));
}

type TimelineScanRow = InferResult<ReturnType<typeof timelineScanQuery>>[number];

/** Compiled once a shape (shaped-statement.ts): a page of a busy timeline is a few statements. */
const timelineScan = shapedStatement(
  ({ selection, after, count, inTransaction }: TimelineScan, s): TimelineScan => ({
    selection: {
      programId: s.optionalText(selection.programId),
      consortiumId: s.optionalText(selection.consortiumId),
      from: s.optionalInstant(selection.from),
      toBefore: s.optionalInstant(selection.toBefore),
      ...cutStandIns({ worldBefore: selection.worldBefore, knownBefore: selection.knownBefore }, s),
    } satisfies Record<keyof TimelineSelection, unknown>,
    after: optionalWorldKey(after, s),
    count: s.count(count),
    inTransaction: s.choice(inTransaction),
  }),
  (input, db) => timelineScanQuery(db, input),
);

async function scanWorldOrder(db: Db, selection: TimelineSelection, after: WorldKey | undefined, count: number): Promise<TimelineScanRow[]> {
  return (await timelineScan(db, { selection, after, count, inTransaction: db.isTransaction })).rows;
}
