import type { FuzzyDate } from './fuzzy-date.js';
import type { Source } from './source.js';

export interface EventMetadata {
  /** The name of the API key that recorded the event: taken from the credential, never from the body. */
  readonly actor: string;
  /** That key's id, since names need not be unique. */
  readonly actorKeyId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly requestId: string;
}

/** An event as stored: immutable, with everything the server assigned (SPEC §2). */
export interface RecordedEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly stream: string;
  readonly streamVersion: number;
  readonly position: number;
  readonly occurredAt: FuzzyDate;
  readonly recordedAt: Date;
  readonly data: Readonly<Record<string, unknown>>;
  readonly sources: readonly Source[];
  readonly metadata: EventMetadata;
}

/** A field of an event's data when it holds text: the data is typed by its type's schema, read here without it. */
export const dataText = (event: RecordedEvent, field: string): string | undefined => {
  const value = event.data[field];
  return typeof value === 'string' ? value : undefined;
};
