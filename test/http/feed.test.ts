import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { recordEvents } from '../../src/services/record-events.js';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { databaseUrl } from '../support/postgres-admin.js';
import { eventsOf, feedPageOf, get, post, problemOf, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ poolSize: 24 });

const WRITERS = 8;
const EVENTS_PER_WRITER = 260;

/** Pages the feed from the start until `done()` says every expected event has arrived. */
async function readFeedUntil(done: (seen: readonly string[]) => boolean, deadline: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  while (!done(seen)) {
    if (Date.now() > deadline) throw new Error(`reader gave up after seeing ${seen.length} events`);
    const page = feedPageOf(await get(t.app, `/v1/events?limit=100${cursor === undefined ? '' : `&after=${cursor}`}`));
    seen.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
    if (page.events.length === 0) await sleep(5);
  }
  return seen;
}

describe('GET /v1/events (the global feed)', () => {
  it(
    'gives a reader paging from the start every committed event exactly once, while 8 writers append 2000+ and one commits late',
    async () => {
      const { programId, consortiumId, events } = programWithConsortium();
      const setup = await record(t.app, ...events);
      const expected = new Set(setup.map((e) => e.id));

      // A writer that appends, then holds its transaction open while the others commit after it.
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let heldPosition = Number.NaN;
      let heldAppended = () => {};
      const appended = new Promise<void>((resolve) => (heldAppended = resolve));
      const slowWriter = t.database.concurrentTransactions
        ? t.database.db.transaction().execute(async (trx) => {
            const [held] = await recordEvents(trx, {
              // On the consortium's stream: the writers below use the program's, whose head it would lock.
              events: [ProposedEvent.parse({ type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId } })],
              principal: { keyId: '00000000-0000-4000-8000-000000000001', name: 'slow-writer', role: 'writer' },
              requestId: 'held',
              idempotencyKey: undefined,
            });
            if (held === undefined) throw new Error('nothing appended');
            heldPosition = held.position;
            expected.add(held.id);
            heldAppended();
            await released;
          })
        : (heldAppended(), Promise.resolve());
      await appended;

      // A naive reader, `position > last seen`, run beside the real one to show the trap is set.
      const naiveSeen = new Set<number>();
      let naiveCursor = 0;
      const readNaively = async () => {
        const { rows } = await sql<{ position: string }>`select position::text from event where position > ${naiveCursor} order by position limit 500`.execute(t.database.db);
        for (const r of rows) naiveSeen.add(Number(r.position));
        naiveCursor = Math.max(naiveCursor, ...rows.map((r) => Number(r.position)));
      };

      let writersDone = false;
      let committedAfterHeld = 0;
      const writers = Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < EVENTS_PER_WRITER; i++) {
            const response = await post(t.app, seminarHeld(programId, `writer ${w} event ${i}`));
            expect(response.status).toBe(201);
            for (const e of eventsOf(response)) {
              expected.add(e.id);
              if (e.position > heldPosition) committedAfterHeld++;
            }
          }
        }),
      ).then(() => {
        writersDone = true;
      });

      const lateCommit = (async () => {
        if (!t.database.concurrentTransactions) return;
        while (committedAfterHeld < 500) await sleep(5);
        await readNaively();
        release();
        await slowWriter;
      })();

      const seen = await readFeedUntil((s) => writersDone && s.length >= expected.size, Date.now() + 120_000);
      await Promise.all([writers, lateCommit, slowWriter]);

      expect(expected.size).toBeGreaterThanOrEqual(WRITERS * EVENTS_PER_WRITER);
      expect(seen).toHaveLength(new Set(seen).size);
      expect(new Set(seen)).toEqual(expected);
      if (t.database.concurrentTransactions) {
        await readNaively();
        expect(committedAfterHeld).toBeGreaterThanOrEqual(500);
        expect(naiveSeen.has(heldPosition)).toBe(false);
      }
    },
    180_000,
  );

  it('filters by type, stream, programId and consortiumId, and pages on with the cursor', async () => {
    const a = programWithConsortium();
    const b = programWithConsortium();
    await record(t.app, ...a.events, ...b.events);
    await record(t.app, seminarHeld(a.programId, 'a1'), seminarHeld(b.programId, 'b1'), seminarHeld(a.programId, 'a2'));
    await record(t.app, { type: 'pilot.started', occurredAt: '2026-Q2', data: { programId: a.programId, consortiumId: a.consortiumId } });
    await waitForFeedHorizon(t.database.db);

    const seminarsOfA = feedPageOf(await get(t.app, `/v1/events?type=seminar.held&programId=${a.programId}&limit=1`));
    const more = feedPageOf(await get(t.app, `/v1/events?type=seminar.held&programId=${a.programId}&after=${seminarsOfA.nextCursor}`));
    const byConsortium = feedPageOf(await get(t.app, `/v1/events?consortiumId=${a.consortiumId}`));
    const byStream = feedPageOf(await get(t.app, `/v1/events?stream=program:${b.programId}`));
    const twoTypes = feedPageOf(await get(t.app, `/v1/events?type=pilot.started,consortium.enrolled&programId=${a.programId}`));

    expect(seminarsOfA.events.map((e) => e.data.title)).toEqual(['a1']);
    expect(more.events.map((e) => e.data.title)).toEqual(['a2']);
    expect(byConsortium.events.map((e) => e.type)).toEqual(['consortium.registered', 'consortium.enrolled', 'pilot.started']);
    expect(byStream.events.map((e) => e.type)).toEqual(['program.registered', 'milestone.planned', 'milestone.planned', 'seminar.held']);
    expect(twoTypes.events.map((e) => e.type)).toEqual(['consortium.enrolled', 'pilot.started']);
  });

  it('returns the same cursor when there is nothing new, and picks up later events from it', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);
    await waitForFeedHorizon(t.database.db);
    let cursor: string | undefined;
    let page = feedPageOf(await get(t.app, '/v1/events?limit=1000'));
    while (page.events.length > 0) {
      cursor = page.nextCursor;
      page = feedPageOf(await get(t.app, `/v1/events?limit=1000&after=${cursor}`));
    }

    const idle = feedPageOf(await get(t.app, `/v1/events?after=${cursor}`));
    const [late] = await record(t.app, seminarHeld(programId, 'later'));
    await waitForFeedHorizon(t.database.db);
    const next = feedPageOf(await get(t.app, `/v1/events?after=${idle.nextCursor}`));

    expect(idle).toEqual({ events: [], nextCursor: cursor });
    expect(next.events.map((e) => e.id)).toEqual([late?.id]);
  });

  it("shows what was committed while a writing transaction of another database on the same server stays open (PostgreSQL server only: PGlite holds one database)", async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);
    // Another database's transaction, given an id and left open: another application's long job on a shared server.
    const other = new pg.Client({ connectionString: databaseUrl(t.database.url, 'postgres') });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('create temporary table scratch (n integer)');
      const { rows } = await other.query<{ id: string }>('select pg_current_xact_id()::text as id');
      const [late] = await record(t.app, seminarHeld(programId, 'while another database writes'));
      // This database's other writers (a rate-limit lease taken for a request) may hold the feed back a moment; not the other database's.
      await waitForFeedHorizon(t.database.db);
      const { rows: still } = await sql<{ running: boolean }>`
        select ${rows[0]?.id ?? ''}::xid8 < pg_snapshot_xmax(pg_current_snapshot()) and not pg_visible_in_snapshot(${rows[0]?.id ?? ''}::xid8, pg_current_snapshot()) as running`.execute(t.database.db);

      const page = feedPageOf(await get(t.app, `/v1/events?programId=${programId}&limit=100`));
      const feed = await get(t.app, `/v1/feed?programId=${programId}&follow=false&limit=100`);

      expect(still[0]?.running).toBe(true);
      expect(page.events.map((e) => e.id)).toContain(late?.id);
      expect(String(feed.body)).toContain(late?.id);
    } finally {
      await other.query('rollback').catch(() => {});
      await other.end();
    }
  });

  it.each([
    'garbage',
    Buffer.from('f1:12:x').toString('base64url'),
    Buffer.from('f9:1:2').toString('base64url'),
    Buffer.from('f1:99999999999999999999:1').toString('base64url'),
    Buffer.from('f1:1:9999999999999999999').toString('base64url'),
  ])(
    'refuses a cursor it did not issue (%s) with 400 naming `after`',
    async (cursor) => {
      const response = await get(t.app, `/v1/events?after=${cursor}`);

      expect(response.status).toBe(400);
      expect(problemOf(response)).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after' }] });
    },
  );

  it('refuses an unknown type filter with 400', async () => {
    const response = await get(t.app, '/v1/events?type=mou.signed,no.such');

    expect(response.status).toBe(400);
    expect(problemOf(response).errors?.[0]?.parameter).toContain('type');
  });
});
