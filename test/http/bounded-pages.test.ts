import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumRegistered, milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, get, record } from '../support/http.js';
import { parseSse } from '../support/sse.js';
import { costOf, statementRecorder } from '../support/statement-cost.js';
import { useTestApp } from '../support/test-app.js';

/*
 * SPEC §5, §9: a page's work is bounded by its limit, whatever the entries its filters reject
 * (late news under knownAt, retractions), and it holds each entry once. From an independent review.
 */

const recorder = statementRecorder();
const t = useTestApp({ wrapDb: recorder.wrap, limits: { apiKeyCacheMs: 0 } });
const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
const Timeline = z.object({ events: z.array(z.object({ id: z.string() })) });
const Page = z.object({ nextCursor: z.string() });
const Feed = z.object({ events: z.array(z.object({ id: z.string(), type: z.string() })), nextCursor: z.string() });

async function program(): Promise<string> {
  const programId = uniqueId('pages');
  await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
  return programId;
}
const fact = (programId: string, n: number) => ({ type: 'evaluation.held', occurredAt: minute(n), data: { programId, milestone: 'm' } });

async function costOfGet(url: string) {
  recorder.take();
  const response = await get(t.app, url);
  expect(response.status, url).toBe(200);
  return { body: response.body, cost: await costOf(t.database.db, recorder.take()) };
}

/** A program and consortium with 300 pilots and 3 seminars, among 300 seminars of another program, in the feed's order. */
async function busyAmongOthers() {
  const busy = programWithConsortium('feed');
  const other = programWithConsortium('noise');
  await record(t.app, ...busy.events, ...other.events);
  const pilot = (p: typeof busy, n: number) => ({ type: 'pilot.started', occurredAt: minute(n), data: { programId: p.programId, consortiumId: p.consortiumId } });
  const seminar = (p: typeof busy, n: number) => ({ type: 'seminar.held', occurredAt: minute(n), data: { programId: p.programId, title: `Seminar ${n}` } });
  for (let batch = 0; batch < 3; batch++) {
    await record(t.app, ...Array.from({ length: 100 }, (_, n) => seminar(other, batch * 100 + n)));
    await record(t.app, ...Array.from({ length: 100 }, (_, n) => pilot(busy, batch * 100 + n)), seminar(busy, batch));
  }
  return busy;
}

describe('bounded pages', () => {
  it('refuses a timeline or evidence cursor it did not issue with 400 invalid-cursor, naming `after`', async () => {
    const programId = await program();
    for (const url of [`/v1/timeline?programId=${programId}&after=garbage`, `/v1/programs/${programId}/milestones/m/evidence?asOf=2031&after=garbage`]) {
      const response = await get(t.app, url);
      expect(response.status, url).toBe(400);
      expect(response.body, url).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after' }] });
    }
  });

  it('runs a timeline page one entry short under knownAt, followed by a run of later news, in a few statements', async () => {
    const programId = await program();
    // The 2 definitions and 97 facts known at K: one fewer than the limit; then 400 recorded later.
    const known = await record(t.app, ...Array.from({ length: 97 }, (_, n) => fact(programId, n)));
    await record(t.app, ...Array.from({ length: 400 }, (_, n) => fact(programId, 97 + n)));

    const cut = await costOfGet(`/v1/timeline?programId=${programId}&limit=100&knownAt=${known[0]?.recordedAt}`);
    const plain = await costOfGet(`/v1/timeline?programId=${programId}&limit=100`);

    expect(Timeline.parse(cut.body).events).toHaveLength(99);
    // The page asks for 112, then twice as many, then the rest of its 400: at most two scans more
    // than a page that fills at once, and its first scan once more, the page being read again in
    // one snapshot (a transaction, whose statements are counted too: more than the plain page's).
    // Asking for what is missing only, it took 145 scans.
    const counts = JSON.stringify({ cut: cut.cost.statements, plain: plain.cost.statements });
    expect(cut.cost.statements, counts).toBeGreaterThan(plain.cost.statements);
    expect(cut.cost.statements, counts).toBeLessThanOrEqual(plain.cost.statements + 6);
  }, 120_000);

  it('reads the current and asOf evidence of a cell without passing over the entries retracted from it', async () => {
    const busy = await program();
    const quiet = await program();
    const retracted = await record(t.app, ...Array.from({ length: 1000 }, (_, n) => fact(busy, 100_000 + n)));
    await record(t.app, ...retracted.map((e) => ({ type: 'event.retracted', data: { eventId: e.id, reason: 'wrong' } })));
    for (const p of [busy, quiet]) await record(t.app, fact(p, 1), fact(p, 2), fact(p, 3));

    for (const query of ['/evidence?limit=3', '/evidence?limit=3&asOf=2027', '?asOf=2027']) {
      const b = (await costOfGet(`/v1/programs/${busy}/milestones/m${query}`)).cost;
      const q = (await costOfGet(`/v1/programs/${quiet}/milestones/m${query}`)).cost;
      expect(b.tuples, `${query}: ${JSON.stringify({ busy: b, quiet: q }, null, 1)}`).toBeLessThanOrEqual(q.tuples + 20);
    }
  }, 120_000);

  it('reads a page of the program and of the consortium list, first or next, current or at a cut-off, without reading the rest of the registry', async () => {
    const tag = uniqueId('registry');
    const ids = Array.from({ length: 1000 }, (_, n) => `${tag}-${n}`);
    await record(t.app, ...ids.map((id) => programRegistered(id)));
    await record(t.app, ...ids.map((id) => consortiumRegistered(id)));

    for (const list of ['programs', 'consortiums']) {
      const first = await costOfGet(`/v1/${list}?limit=5`);
      const after = Page.parse(first.body).nextCursor;
      for (const query of ['?limit=5', `?limit=5&after=${after}`, '?limit=5&asOf=2026-01-01', `?limit=5&knownAt=${new Date().toISOString()}`]) {
        const { cost } = await costOfGet(`/v1/${list}${query}`);
        // A page read the whole registry, 1,000 rows here, and sorted it: its primary key is in
        // the database's collation, which no code-point order can use (migration 2026-12-04T19-00-00).
        expect(cost.tuples, `${list}${query}: ${JSON.stringify(cost)}`).toBeLessThanOrEqual(5 + 10);
      }
    }
  }, 60_000);

  it('reads a page of the event feed filtered by type, stream, program or consortium, first or next, without reading the rest of their history', async () => {
    const busy = await busyAmongOthers();
    await waitForFeedHorizon(t.database.db);
    // Statistics, as a server's autovacuum gathers them: the plans must not turn to walking the feed.
    await sql`analyze event`.execute(t.database.db);
    // Each filter, the index walks it takes, and what a walk passes over that the filter rejects.
    const filters = [
      [`programId=${busy.programId}`, 1, 0],
      [`consortiumId=${busy.consortiumId}`, 1, 0],
      [`stream=consortium:${busy.consortiumId}`, 1, 0],
      ['type=pilot.started', 1, 0],
      // A type named twice is walked once: its events are not listed twice.
      ['type=pilot.started,pilot.started', 1, 0],
      ['type=pilot.started,seminar.held', 2, 0],
      // Filters combined walk one index and pass over what the others reject: at most the program's 5 definitions.
      [`type=pilot.started&programId=${busy.programId}`, 1, 5],
    ] as const;
    for (const [filter, walks, passed] of filters) {
      const first = await costOfGet(`/v1/events?${filter}&limit=5`);
      const page = Feed.parse(first.body);
      const next = await costOfGet(`/v1/events?${filter}&limit=5&after=${page.nextCursor}`);
      const both = Feed.parse((await get(t.app, `/v1/events?${filter}&limit=10`)).body);
      // The next page follows on from the first: the two are the first ten.
      expect([...page.events, ...Feed.parse(next.body).events].map((e) => e.id), filter).toEqual(both.events.map((e) => e.id));
      expect(new Set(both.events.map((e) => e.id)).size, filter).toBe(10);
      for (const { cost } of [first, next]) {
        // Each walk's 5 keys, then the 5 events by position. Walking the feed, or reading all of the
        // filter's events and sorting them, a page read over 100 here.
        expect(cost.tuples, `${filter}: ${JSON.stringify(cost)}`).toBeLessThanOrEqual(5 * walks + passed + 5 + 10);
      }
    }
  }, 60_000);

  it('starts a filtered feed page at its cursor: a page 3,000 events deep touches the buffers of the first', async () => {
    const programId = await program();
    const seminar = (n: number) => ({ type: 'seminar.held', occurredAt: minute(n), data: { programId, title: `Seminar ${n}` } });
    for (let batch = 0; batch < 4; batch++) await record(t.app, ...Array.from({ length: 1000 }, (_, n) => seminar(batch * 1000 + n)));
    // Past the feed's horizon, which another file's open transaction may hold back: else the walk reads to the end.
    await waitForFeedHorizon(t.database.db);
    await sql`analyze event`.execute(t.database.db);
    // Each filter and the index its walk takes.
    const filters = [
      [`programId=${programId}`, 'event_program_feed'],
      [`programId=${programId}&type=seminar.held`, 'event_program_feed'],
      ['type=seminar.held', 'event_type_feed'],
    ] as const;
    for (const [filter, index] of filters) {
      let after = '';
      for (let page = 0; page < 3; page++) {
        const full = Feed.parse((await get(t.app, `/v1/events?${filter}&limit=1000${after}`)).body);
        expect(full.events, filter).toHaveLength(1000);
        after = `&after=${full.nextCursor}`;
      }
      const first = await costOfGet(`/v1/events?${filter}&limit=5`);
      const deep = await costOfGet(`/v1/events?${filter}&limit=5${after}`);
      const deepIds = Feed.parse(deep.body).events.map((e) => e.id);
      expect(deepIds, filter).toHaveLength(5);
      expect(deepIds.filter((id) => Feed.parse(first.body).events.some((e) => e.id === id)), filter).toEqual([]);
      expect(deep.cost.indexLoops[index], `${filter}: ${JSON.stringify(deep.cost)}`).toBeGreaterThan(0);
      // A walk that started at the program's first entry and tested each up to the cursor passed
      // over 3,000 index entries, which no tuple count shows (an index condition rejects them):
      // about 20 more leaf pages of the index.
      const costs = JSON.stringify({ first: first.cost, deep: deep.cost });
      expect(deep.cost.buffers, `${filter}: ${costs}`).toBeLessThanOrEqual(first.cost.buffers + 5);
      expect(deep.cost.tuples, `${filter}: ${costs}`).toBeLessThanOrEqual(first.cost.tuples + 5);
    }
  }, 120_000);

  it('reads a page of the notification feed filtered by topic, program or consortium without reading the rest of the feed', async () => {
    const busy = await busyAmongOthers();
    await waitForFeedHorizon(t.database.db);
    await sql`analyze notification`.execute(t.database.db);
    // Each filter, the index walks it takes, and what a walk passes over that the filter rejects.
    const filters = [
      [`programId=${busy.programId}`, 1, 0],
      [`consortiumId=${busy.consortiumId}`, 1, 0],
      // pilot.started and pilot.completed.
      ['topics=pilot.*', 2, 0],
      ['topics=pilot.started,seminar.held', 2, 0],
      // Filters combined walk one index and pass over what the others reject: at most the program's 5 definitions.
      [`topics=pilot.started&programId=${busy.programId}`, 1, 5],
    ] as const;
    for (const [filter, walks, passed] of filters) {
      recorder.take();
      const response = await call(t.app, 'GET', `/v1/feed?${filter}&follow=false&limit=5`);
      const cost = await costOf(t.database.db, recorder.take());
      expect(parseSse(String(response.body)).messages.filter((m) => m.event !== undefined), filter).toHaveLength(5);
      // The page's notifications, then their 5 events by id. Walking the feed, it passed over 300 and more.
      expect(cost.tuples, `${filter}: ${JSON.stringify(cost)}`).toBeLessThanOrEqual(5 * walks + passed + 5 + 10);
    }
  }, 60_000);

  it('holds each event once in a timeline page whose scan stops on a retraction recorded in the same millisecond as a later fact occurred', async () => {
    const programId = await program();
    const facts = await record(t.app, ...Array.from({ length: 6 }, (_, n) => fact(programId, n)));
    // Three retractions without occurredAt: they occurred when they were recorded.
    const retractions = await record(t.app, ...facts.slice(0, 3).map((e) => ({ type: 'event.retracted', data: { eventId: e.id, reason: 'wrong' } })));
    const [sameMillisecond] = await record(t.app, { type: 'evaluation.held', occurredAt: retractions[0]?.recordedAt, data: { programId, milestone: 'm' } });
    await record(t.app, ...Array.from({ length: 5 }, (_, n) => ({ ...fact(programId, 0), occurredAt: `2027-01-0${n + 1}` })));

    const ids = Timeline.parse((await costOfGet(`/v1/timeline?programId=${programId}&limit=10`)).body).events.map((e) => e.id);

    expect(ids.filter((id) => id === sameMillisecond?.id), JSON.stringify(ids)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  }, 60_000);
});
