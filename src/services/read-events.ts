import { EventNotFoundError } from '../domain/errors.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Db } from '../store/database.js';
import { findEvent, readFeed, readStream, type FeedFilter, type FeedPage, type StreamPage } from '../store/event-store.js';
import { decodeCursor } from '../store/feed-cursor.js';

export async function getEvent(db: Db, id: string): Promise<RecordedEvent> {
  const event = await findEvent(db, id);
  if (event === undefined) throw new EventNotFoundError(id);
  return event;
}

export async function pageFeed(db: Db, after: string | undefined, limit: number, filter: FeedFilter): Promise<FeedPage> {
  return readFeed(db, after === undefined ? undefined : decodeCursor(after), limit, filter);
}

export async function pageStream(db: Db, stream: string, fromVersion: number, limit: number): Promise<StreamPage> {
  return readStream(db, stream, fromVersion, limit);
}
