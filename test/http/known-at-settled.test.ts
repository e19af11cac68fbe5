import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { bearer, eventsOf, get, inject, post, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * "What did we believe on K" (SPEC §5) must not change once asked: an append recorded before K
 * that has not committed yet is not yet known, and an answer at K given meanwhile would leave it out,
 * then count it once it commits. A knownAt not settled yet is answered at the first instant that is,
 * and the answer says so in `cutoff.knownAt`.
 */

const t = useTestApp();

const MilestoneAnswer = z.object({
  cells: z.array(z.object({ status: z.string(), evidenceCount: z.number() })),
  cutoff: z.object({ knownAt: z.string().optional() }),
});

/** The database's clock (whose instants are settled or not), as an instant to the millisecond. */
const databaseNow = async () => {
  const { rows } = await sql<{ now: Date }>`select date_trunc('milliseconds', statement_timestamp()) as now`.execute(t.database.db);
  return rows[0]?.now.toISOString() ?? '';
};

async function programWithMilestone() {
  const programId = uniqueId('settled');
  await record(t.app, programRegistered(programId), milestonePlanned(programId, 'launch', 'program', '2026-Q4'));
  const view = async (knownAt: string) => {
    const response = await get(t.app, `/v1/programs/${programId}/milestones/launch?knownAt=${encodeURIComponent(knownAt)}`);
    expect(response.status).toBe(200);
    return MilestoneAnswer.parse(response.body);
  };
  return { programId, view };
}

/**
 * Runs `meanwhile` while an append of a fact on the program's milestone is held inside its statement,
 * after it has read its recorded_at (by a table lock), given a knownAt a few milliseconds after that
 * recording (in another millisecond, and past when a view looks at what is settled); the append
 * commits once `meanwhile` ends.
 */
async function whileAnAppendIsHeld<T>(programId: string, meanwhile: (asked: string) => Promise<T>) {
  const held = await t.database.db.transaction().execute(async (trx) => {
    await sql`lock table event in share mode`.execute(trx);
    const appended = post(t.app, { type: 'milestone.started', occurredAt: '2026-03', data: { programId, milestone: 'launch' } });
    await appendsWaitingForLock(t.database.db, 1);
    await sleep(5);
    const asked = await databaseNow();
    await sleep(5);
    return { appended, asked, result: await meanwhile(asked) };
  });
  const appended = await held.appended;
  expect(appended.status).toBe(201);
  const recordedAt = eventsOf(appended)[0]?.recordedAt ?? '';
  // The append was recorded before the knownAt asked (else the test would prove nothing).
  expect(recordedAt < held.asked).toBe(true);
  return { asked: held.asked, recordedAt, result: held.result };
}

describe('knownAt answers that never change once given', () => {
  it('answers a knownAt after the recording of an append not yet committed as of an instant before that recording, saying so, and gives that same answer again once it committed (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    const { programId, view } = await programWithMilestone();
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { asked, recordedAt, result: during } = await whileAnAppendIsHeld(programId, view);

    const again = await view(during.cutoff.knownAt ?? '');
    const atAsked = await view(asked);

    // Answered at an instant before that recording, and said so.
    expect((during.cutoff.knownAt ?? '') < recordedAt).toBe(true);
    expect(during.cells).toMatchObject([{ status: 'planned', evidenceCount: 0 }]);
    // The same question, asked after the commit, gets the same answer.
    expect(again).toEqual(during);
    // The knownAt first asked is settled now, and counts the append.
    expect(atAsked).toMatchObject({ cells: [{ status: 'in_progress', evidenceCount: 1 }], cutoff: { knownAt: asked } });
  });

  it('waits a moment for an append under way that recorded before the knownAt asked, and answers at that knownAt, counting it (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    const { programId, view } = await programWithMilestone();
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { asked, result } = await whileAnAppendIsHeld(programId, async (knownAt) => {
      const answer = view(knownAt);
      // Released (at the commit that follows) well within the wait.
      await sleep(200);
      return { answer };
    });

    expect(await result.answer).toMatchObject({ cells: [{ status: 'in_progress', evidenceCount: 1 }], cutoff: { knownAt: asked } });
  });

  it('names in a CSV page\'s next link the knownAt it answered at, so that every page answers at the same instant', async () => {
    await programWithMilestone();
    await programWithMilestone();

    const response = await inject(t.app, { url: '/v1/programs?knownAt=2100&limit=1', headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });

    expect(response.statusCode).toBe(200);
    const echoed = z.array(z.object({ cutoffKnownAt: z.string() })).parse(parse(response.body, { columns: true }))[0]?.cutoffKnownAt;
    const next = /^<([^>]+)>; rel="next"$/.exec(String(response.headers.link))?.[1] ?? '';
    expect(new URL(next, 'http://localhost').searchParams.get('knownAt')).toBe(echoed);
    expect(echoed).not.toContain('2100');
  });

  it('keeps in a JSON page\'s nextCursor the knownAt it answered at, earlier than asked, so that the next page asked with the same knownAt answers at that instant, though more has settled since', async () => {
    const programId = uniqueId('pinned');
    await record(
      t.app,
      programRegistered(programId),
      milestonePlanned(programId, 'launch', 'program', '2026-Q4'),
      { type: 'seminar.held', occurredAt: '2026-01-10', data: { programId, title: 'First' } },
      { type: 'seminar.held', occurredAt: '2026-01-20', data: { programId, title: 'Second' } },
    );
    const Page = z.object({ events: z.array(z.object({ id: z.string() })), nextCursor: z.string().optional(), cutoff: z.object({ knownAt: z.string() }) });
    const timeline = `/v1/timeline?programId=${programId}&knownAt=2100&limit=2`;
    const first = Page.parse((await get(t.app, timeline)).body);
    expect(first.cutoff.knownAt).not.toContain('2100');
    // Recorded after the first page's instant, later in world time than its events: on a later page, were it asked anew.
    const [late] = await record(t.app, { type: 'seminar.held', occurredAt: '2026-02-01', data: { programId, title: 'Recorded after the first page' } });
    await sleep(5);

    const second = Page.parse((await get(t.app, `${timeline}&after=${first.nextCursor ?? ''}`)).body);
    expect(second.cutoff.knownAt).toBe(first.cutoff.knownAt);
    expect(second.events.map((e) => e.id)).not.toContain(late?.id);
    // Asked afresh, it is there: the pin kept it out, not a cursor past it; the two pages hold all else.
    const afresh = Page.parse((await get(t.app, `/v1/timeline?programId=${programId}&knownAt=2100&limit=10`)).body);
    expect(afresh.events.map((e) => e.id)).toContain(late?.id);
    expect([...first.events, ...second.events].map((e) => e.id)).toEqual(afresh.events.map((e) => e.id).filter((id) => id !== late?.id));
    // The pin only lowers a knownAt: asked for an earlier one with the same cursor, the page answers there.
    const earlierAt = new Date(Date.parse(first.cutoff.knownAt) - 1).toISOString();
    const earlier = await get(t.app, `/v1/timeline?programId=${programId}&knownAt=${earlierAt}&after=${first.nextCursor ?? ''}`);
    expect(earlier.body).toMatchObject({ cutoff: { knownAt: earlierAt } });
  });

  it('refuses a pinned cursor whose instant is not one it could have written with 400 invalid-cursor', async () => {
    for (const pin of ['n1:abc:azE6eA', 'n1:-5:azE6eA', `n1:${Date.UTC(10001, 0, 1)}:azE6eA`, 'n1:1700000000000']) {
      const response = await get(t.app, `/v1/programs?knownAt=2100&after=${Buffer.from(pin).toString('base64url')}`);

      expect(response.status, pin).toBe(400);
      expect(response.body, pin).toMatchObject({ type: '/problems/invalid-cursor' });
    }
  });

  it('answers a knownAt in the future as of now, saying so, rather than claiming to know what is yet to be recorded; a past one as asked', async () => {
    const { view } = await programWithMilestone();
    const before = Date.parse(await databaseNow());

    const answer = await view('2100');
    const after = Date.parse(await databaseNow());
    const past = await get(t.app, '/v1/programs?knownAt=2026-01-01');

    const echoed = Date.parse(answer.cutoff.knownAt ?? '');
    // The database's clock, whose instants are settled or not; to the millisecond, the last one covered.
    expect(echoed).toBeGreaterThanOrEqual(before - 2);
    expect(echoed).toBeLessThanOrEqual(after);
    expect(answer.cells).toMatchObject([{ status: 'planned' }]);
    expect(past.body).toMatchObject({ cutoff: { knownAt: '2026-01-01T23:59:59.999Z' } });
  });
});
