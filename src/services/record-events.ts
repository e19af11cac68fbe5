import { createHash, randomUUID } from 'node:crypto';
import type { Principal } from '../domain/access.js';
import { EVENT_TYPES } from '../domain/event-catalogue.js';
import { subjectOf } from '../domain/event-references.js';
import type { ProposedEvent } from '../domain/proposed-event.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Db } from '../store/database.js';
import { appendEvents, type AppendItem } from '../store/event-store.js';

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

/**
 * Records a batch of proposed events, all or nothing: assigns ids, derives streams and subjects,
 * stamps metadata, and appends. The store checks versions and references in the same statement.
 * `observe` hears what was stored (metrics).
 */
export async function recordEvents(
  db: Db,
  command: RecordEventsCommand,
  observe?: (outcome: RecordOutcome) => void,
): Promise<RecordedEvent[]> {
  const items = command.events.map((event): AppendItem => {
    const { type, data, occurredAt, sources = [], expectedVersion, correlationId, causationId } = event;
    return {
      id: randomUUID(),
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
  const recorded = await appendEvents(db, items, {
    // Idempotency keys are scoped to the API key that sent them.
    actor: command.principal.keyId,
    idempotencyKey: command.idempotencyKey,
    requestHash: command.idempotencyKey === undefined ? undefined : digest(command.events),
  });
  // A replay returns the events of the first request, whose ids are not the ones drawn here.
  const drawn = new Set(items.map((item) => item.id));
  const stored = recorded.filter((event) => drawn.has(event.id)).length;
  observe?.({ stored, replayed: stored === 0 && recorded.length > 0 });
  return recorded;
}

/** The same body parses to the same proposals, so their JSON identifies the request. */
const digest = (events: readonly ProposedEvent[]): string =>
  createHash('sha256').update(JSON.stringify(events)).digest('base64url');
