import { createHash } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import type { Principal } from '../domain/access.js';
import { EVENT_TYPES } from '../domain/event-catalogue.js';
import { subjectOf } from '../domain/event-references.js';
import type { ProposedEvent } from '../domain/proposed-event.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Db } from '../store/database.js';
import { createAppendCombiner, type Append, type AppendCombinerOptions, type AppendLoad } from '../store/append-combiner.js';
import { appendEvents, type AppendItem } from '../store/event-store.js';
import { findReferenceCandidates } from '../store/references.js';
import { CommitOutcomeUnknownError, UnknownReferenceError } from '../domain/errors.js';
import { closestReferences } from '../domain/near-miss.js';

export interface RecordEventsCommand {
  readonly events: readonly ProposedEvent[];
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
}

/** What one call stored: nothing when it replayed the events an idempotency key recorded before. */
export interface RecordOutcome {
  readonly stored: number;
  readonly replayed: boolean;
}

/** Records batches of proposed events through one instance's append combiner. */
export interface EventRecorder {
  record(command: RecordEventsCommand, observe?: (outcome: RecordOutcome) => void): Promise<RecordedEvent[]>;
  /** The appends waiting to be combined and the combiner's calls running now (the metrics). */
  load(): AppendLoad;
}

/**
 * The recorder the API uses: under load, concurrent appends of facts wait and are stored together,
 * each still all or nothing and answered on its own (store/append-combiner.ts).
 */
export function createEventRecorder(db: Db, options: AppendCombinerOptions & { readonly statementTimeoutMs: number }): EventRecorder {
  const combiner = createAppendCombiner((items, request) => appendEvents(db, items, request), options);
  const append: Append = (items, request) => combiner.append(items, request);
  return { record: (command, observe) => record(db, command, observe, append, options.statementTimeoutMs), load: () => combiner.load() };
}

/**
 * Records a batch of proposed events, all or nothing, in one call of its own (in a caller's
 * transaction, say): assigns ids, derives streams and subjects, stamps metadata, and appends. The
 * store checks versions and references in the same statement. `observe` hears what was stored (metrics).
 */
export async function recordEvents(
  db: Db,
  command: RecordEventsCommand,
  observe?: (outcome: RecordOutcome) => void,
): Promise<RecordedEvent[]> {
  // In a caller's transaction, whose statement timeout is the caller's to know.
  return record(db, command, observe, (items, request) => appendEvents(db, items, request), undefined);
}

async function record(
  db: Db,
  command: RecordEventsCommand,
  observe: ((outcome: RecordOutcome) => void) | undefined,
  append: Append,
  /** The database's statement timeout: how long an append whose outcome is unknown may still run. */
  statementTimeoutMs: number | undefined,
): Promise<RecordedEvent[]> {
  const items = command.events.map((event): AppendItem => {
    const { type, data, occurredAt, sources = [], expectedVersion, correlationId, causationId } = event;
    return {
      // Time-ordered (RFC 9562 version 7): new ids go to the right edge of the event id index, one
      // page, where random ones each dirtied a page of their own, and the folds' look-ups of the
      // events just written find them in the few pages recent ids share.
      id: timeOrderedUuid(),
      type,
      schemaVersion: EVENT_TYPES[type].schemaVersion,
      expectedVersion,
      occurredAt,
      data,
      sources,
      metadata: {
        actor: command.principal.name,
        actorKeyId: command.principal.keyId,
        requestId: command.requestId,
        ...(correlationId !== undefined && { correlationId }),
        ...(causationId !== undefined && { causationId }),
      },
      subject: subjectOf(event),
    };
  });
  const recorded = await append(items, {
    // Idempotency keys are scoped to the API key that sent them.
    actor: command.principal.keyId,
    idempotencyKey: command.idempotencyKey,
    requestHash: command.idempotencyKey === undefined ? undefined : digest(command.events),
  }).catch(async (error: unknown) => {
    // A combined call's failure is every append's: each names its own events.
    if (error instanceof CommitOutcomeUnknownError) throw error.forEvents(items.map((item) => item.id), statementTimeoutMs);
    throw await withSuggestions(db, error);
  });
  // A replay returns the events of the first request, whose ids are not the ones drawn here.
  const drawn = new Set(items.map((item) => item.id));
  const stored = recorded.filter((event) => drawn.has(event.id)).length;
  observe?.({ stored, replayed: stored === 0 && recorded.length > 0 });
  return recorded;
}

/** An unknown id refused with the closest existing ones named, where there is a near miss (SPEC §3). */
async function withSuggestions(db: Db, error: unknown): Promise<unknown> {
  if (!(error instanceof UnknownReferenceError) || error.reason !== 'unknown') return error;
  // Inside a caller's transaction the refused append has aborted it: then there is nothing to read.
  const candidates = await findReferenceCandidates(db, error.kind, error.key).catch(() => []);
  const near = closestReferences(error.kind, error.key, candidates);
  if (near.length === 0) return error;
  return new UnknownReferenceError(error.eventIndex, error.kind, error.key, error.reason, error.field, near);
}

/** The same body parses to the same proposals, so their JSON identifies the request. */
const digest = (events: readonly ProposedEvent[]): string =>
  createHash('sha256').update(JSON.stringify(events)).digest('base64url');
