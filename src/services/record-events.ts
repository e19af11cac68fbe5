import { createHash, randomUUID } from 'node:crypto';
import { EVENT_TYPES } from '../domain/event-catalogue.js';
import { subjectOf } from '../domain/event-references.js';
import type { ProposedEvent } from '../domain/proposed-event.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Db } from '../store/database.js';
import { appendEvents, type AppendItem } from '../store/event-store.js';

export interface RecordEventsCommand {
  readonly events: readonly ProposedEvent[];
  readonly actor: string;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
}

/**
 * Records a batch of proposed events, all or nothing: assigns ids, derives streams and subjects,
 * stamps metadata, and appends. The store checks versions and references in the same statement.
 */
export async function recordEvents(db: Db, command: RecordEventsCommand): Promise<RecordedEvent[]> {
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
        actor: command.actor,
        requestId: command.requestId,
        ...(correlationId !== undefined && { correlationId }),
        ...(causationId !== undefined && { causationId }),
      },
      subject: subjectOf(event),
    };
  });
  return appendEvents(db, items, {
    actor: command.actor,
    idempotencyKey: command.idempotencyKey,
    requestHash: command.idempotencyKey === undefined ? undefined : digest(command.events),
  });
}

/** The same body parses to the same proposals, so their JSON identifies the request. */
const digest = (events: readonly ProposedEvent[]): string =>
  createHash('sha256').update(JSON.stringify(events)).digest('base64url');
