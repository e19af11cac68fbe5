import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../db/migrator.js';
import { EVENT_TYPES, type EventPayload } from '../../src/domain/event-catalogue.js';
import { subjectOf } from '../../src/domain/event-references.js';
import { VersionConflictError } from '../../src/domain/errors.js';
import { parseFuzzyDate } from '../../src/domain/fuzzy-date.js';
import type { Db } from '../../src/store/database.js';
import { appendEvents, findEventsByIds, readFeed, readStream, type AppendItem } from '../../src/store/event-store.js';
import { decodeCursor } from '../../src/store/feed-cursor.js';
import { openDatabase } from '../../src/store/open-database.js';
import { uniqueId } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { openTestDatabase } from '../support/test-database.js';

/*
 * The store's contract, run on every database the service supports: the one the tests were given
 * (PostgreSQL in CI) and, always, embedded PGlite.
 */

interface Target {
  readonly name: string;
  open(): Promise<{ db: Db; close(): Promise<void> }>;
}

const TARGETS: Target[] = [
  { name: 'the test database', open: () => openTestDatabase() },
  {
    name: 'embedded PGlite',
    open: async () => {
      const { db } = await openDatabase({ kind: 'pglite', dataDir: undefined });
      const { error } = await migrateToLatest(db);
      if (error !== undefined) throw error;
      return { db, close: () => db.destroy() };
    },
  },
];

const item = (payload: EventPayload, expectedVersion?: number): AppendItem => {
  const occurredAt = parseFuzzyDate('2026-Q2');
  if (occurredAt === undefined) throw new Error('bad date');
  return {
    id: randomUUID(),
    type: payload.type,
    schemaVersion: EVENT_TYPES[payload.type].schemaVersion,
    expectedVersion,
    occurredAt,
    data: payload.data,
    sources: [],
    metadata: { actor: 'contract', requestId: randomUUID() },
    subject: subjectOf(payload),
  };
};
const plain = { actor: 'contract', idempotencyKey: undefined, requestHash: undefined };

describe.each(TARGETS)('event store on $name', (target) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await target.open());
  });
  afterAll(async () => close?.());

  const registerProgram = async () => {
    const programId = uniqueId('p');
    const [event] = await appendEvents(db, [item({ type: 'program.registered', data: { programId, name: 'P' } })], plain);
    return { programId, event };
  };

  it('refuses UPDATE, DELETE and TRUNCATE of events at the database itself', async () => {
    const { event } = await registerProgram();

    await expect(sql`update event set type = 'tampered' where id = ${event?.id}`.execute(db)).rejects.toThrow(/immutable/);
    await expect(sql`delete from event where id = ${event?.id}`.execute(db)).rejects.toThrow(/immutable/);
    await expect(sql`truncate event`.execute(db)).rejects.toThrow(/immutable/);
    const { rows } = await sql<{ type: string }>`select type from event where id = ${event?.id}`.execute(db);
    expect(rows).toEqual([{ type: 'program.registered' }]);
  });

  it('numbers a stream 1, 2, 3… and checks the expected version', async () => {
    const { programId } = await registerProgram();
    const seminar = (title: string): EventPayload => ({ type: 'seminar.held', data: { programId, title } });

    await appendEvents(db, [item(seminar('a'), 1), item(seminar('b'))], plain);
    const stale = appendEvents(db, [item(seminar('c'), 1)], plain);

    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(stale).rejects.toMatchObject({ currentVersion: 3, expectedVersion: 1 });
    const page = await readStream(db, `program:${programId}`, 1, 100);
    expect(page.version).toBe(3);
    expect(page.events.map((e) => [e.streamVersion, e.data.title ?? e.type])).toEqual([
      [1, 'program.registered'],
      [2, 'a'],
      [3, 'b'],
    ]);
    // Past its end, a stream still tells its version; an unknown one is at 0.
    expect(await readStream(db, `program:${programId}`, 10, 100)).toEqual({ events: [], version: 3 });
    expect(await readStream(db, `program:${programId}-none`, 1, 100)).toEqual({ events: [], version: 0 });
    // Below version 1 or with no room for an event, a page could never agree with its head: refused, not read for ever.
    await expect(readStream(db, `program:${programId}-none`, 0, 100)).rejects.toThrow(RangeError);
    await expect(readStream(db, `program:${programId}`, 1, 0)).rejects.toThrow(RangeError);
  });

  it('finds events by more ids than a statement has parameters (70,000), those that exist and no others', async () => {
    const stored = await Promise.all([registerProgram(), registerProgram()]);
    const ids = stored.map(({ event }) => event?.id ?? '');
    const missing = Array.from({ length: 70_000 }, () => randomUUID());

    const found = await findEventsByIds(db, [...missing.slice(0, 35_000), ...ids, ...missing.slice(35_000)]);

    expect([...found.keys()].sort()).toEqual([...ids].sort());
    expect(found.get(ids[0] ?? '')?.data).toMatchObject({ programId: stored[0]?.programId });
  });

  it('returns the same values on every target: positions as numbers, dates as Dates, JSON as objects', async () => {
    const { event } = await registerProgram();

    expect(typeof event?.position).toBe('number');
    expect(event?.recordedAt).toBeInstanceOf(Date);
    expect(event?.occurredAt).toEqual({
      value: '2026-Q2',
      precision: 'quarter',
      start: new Date('2026-04-01T00:00:00Z'),
      end: new Date('2026-07-01T00:00:00Z'),
    });
    expect(event?.metadata).toMatchObject({ actor: 'contract' });
  });

  it('reads the feed in order, resuming from an opaque cursor without repeats', async () => {
    const { programId } = await registerProgram();
    await appendEvents(db, [1, 2, 3].map((n) => item({ type: 'seminar.held', data: { programId, title: `s${n}` } })), plain);
    await waitForFeedHorizon(db);

    const first = await readFeed(db, undefined, 2, { programId });
    const rest = await readFeed(db, decodeCursor('events', first.nextCursor), 100, { programId });

    expect([...first.events, ...rest.events].map((e) => e.data.title ?? e.type)).toEqual(['program.registered', 's1', 's2', 's3']);
  });

  it('appends a batch of 1000 in one statement, as it does a single event', async () => {
    const { programId } = await registerProgram();
    let statements = 0;
    const counted = db.withPlugin({
      transformQuery: (args) => {
        statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const seminars = (n: number) =>
      Array.from({ length: n }, (_, i) => item({ type: 'seminar.held', data: { programId, title: `s${i}` } }));

    await appendEvents(counted, seminars(1), plain);
    const forOne = statements;
    statements = 0;
    const recorded = await appendEvents(counted, seminars(1000), plain);

    expect(forOne).toBe(1);
    expect(statements).toBe(1);
    expect(recorded).toHaveLength(1000);
    expect(recorded.at(-1)?.streamVersion).toBe(1002);
  });

  it('replays the original events for a repeated idempotency key', async () => {
    const { programId } = await registerProgram();
    const request = { actor: 'contract', idempotencyKey: uniqueId('k'), requestHash: 'h' };
    const payload: EventPayload = { type: 'seminar.held', data: { programId, title: 'once' } };

    const first = await appendEvents(db, [item(payload)], request);
    const second = await appendEvents(db, [item(payload)], request);

    expect(second).toEqual(first);
  });
});
