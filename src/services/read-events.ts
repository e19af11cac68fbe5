import { EventNotFoundError, InvalidCursorError } from '../domain/errors.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Db } from '../store/database.js';
import { findEvent, readFeed, readStream, type FeedFilter, type FeedPage, type StreamPage } from '../store/event-store.js';
import { decodeCursor } from '../store/feed-cursor.js';

/** The recorded events as they were appended: one by id, the whole log in order, or one stream. */
export interface EventReader {
  readonly getEvent: (id: string) => Promise<RecordedEvent>;
  readonly pageFeed: (after: string | undefined, limit: number, filter: FeedFilter) => Promise<FeedPage>;
  readonly pageStream: (stream: string, fromVersion: number, limit: number) => Promise<StreamPage>;
}

export function createEventReader(db: Db): EventReader {
  return {
    getEvent: getEvent.bind(null, db),
    pageFeed: pageFeed.bind(null, db),
    pageStream: pageStream.bind(null, db),
  };
}

async function getEvent(db: Db, id: string): Promise<RecordedEvent> {
  const event = await findEvent(db, id);
  if (event === undefined) throw new EventNotFoundError(id);
  return event;
}

async function pageFeed(db: Db, after: string | undefined, limit: number, filter: FeedFilter): Promise<FeedPage> {
  return readFeed(db, after === undefined ? undefined : decodeCursor('events', after), limit, filter).catch((error: unknown) => {
    // The store names the cursor as it read it (an older form read as the newer one): the client's
    // own text is quoted back, which it can find in what it sent.
    throw error instanceof InvalidCursorError && after !== undefined ? new InvalidCursorError(after, error.parameter, error.reason) : error;
  });
}

async function pageStream(db: Db, stream: string, fromVersion: number, limit: number): Promise<StreamPage> {
  return readStream(db, stream, fromVersion, limit);
}
