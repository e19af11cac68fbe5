import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { eventsOf, get, post, problemOf, record, streamPageOf } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

// One append call at a time: an append of facts that comes while it runs waits and joins the next
// call (unless it waits 25 ms, when another call may start: appendMaxCalls).
const t = useTestApp({ limits: { appendConcurrency: 1 } });

const N = 12;

describe('concurrent appends combined into one call (src/store/append-combiner.ts)', () => {
  it('stores them together, and answers each with its own events, in order, once each', async () => {
    const { programId, consortiumId, events } = programWithConsortium();
    await record(t.app, ...events);
    const stream = `program:${programId}`;
    const before = streamPageOf(await get(t.app, `/v1/streams/${stream}/events`)).version;

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        post(t.app, i % 3 === 0
          ? { events: [seminarHeld(programId, `talk ${i}a`), seminarHeld(programId, `talk ${i}b`)] }
          : { type: 'milestone.started', occurredAt: '2026-03-01', data: { programId, milestone: 'defense-pilot', consortiumId }, sources: [{ url: `https://news.example/${i}` }] }),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(Array<number>(N).fill(201));
    const answered = responses.map(eventsOf);
    answered.forEach((own, i) => {
      if (i % 3 === 0) expect(own.map((e) => e.data)).toEqual([{ programId, title: `talk ${i}a` }, { programId, title: `talk ${i}b` }]);
      else expect(own.map((e) => e.sources)).toEqual([[{ url: `https://news.example/${i}` }]]);
    });
    // Combined: appends of different requests share a call, and so its recorded moment. On PGlite
    // (one connection) each request's earlier statements (its key, its rate limit) queue behind the
    // running append, so requests seldom meet in the combiner there.
    const moments = new Set(answered.map((own) => own[0]?.recordedAt));
    if (t.database.concurrentTransactions) expect(moments.size).toBeLessThan(N);
    // Each event stored once, with the stream's versions one after another.
    const page = streamPageOf(await get(t.app, `/v1/streams/${stream}/events?limit=1000`));
    const stored = page.events.filter((e) => e.streamVersion > before);
    expect(stored.map((e) => e.id).sort()).toEqual(answered.flat().filter((e) => e.stream === stream).map((e) => e.id).sort());
    expect(stored.map((e) => e.streamVersion)).toEqual(Array.from({ length: stored.length }, (_, i) => before + i + 1));
  });

  it('answers a refused append with its own problem, and stores every other append of its call', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);
    const stream = `program:${programId}`;
    const before = streamPageOf(await get(t.app, `/v1/streams/${stream}/events`)).version;

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        i === 4
          // The second event of this batch names a milestone the program does not have.
          ? post(t.app, { events: [seminarHeld(programId, 'refused a'), { type: 'milestone.started', occurredAt: '2026-03-01', data: { programId, milestone: 'no-such-milestone' } }] })
          : i === 7
            ? post(t.app, { ...seminarHeld(programId, 'refused b'), expectedVersion: 1 })
            : post(t.app, seminarHeld(programId, `kept ${i}`)),
      ),
    );

    expect(responses.map((r) => r.status)).toEqual(responses.map((_, i) => (i === 4 ? 422 : i === 7 ? 409 : 201)));
    const [refusedReference, refusedVersion] = [responses[4], responses[7]].map((r) => (r === undefined ? undefined : problemOf(r)));
    // Each refusal names its own request's event (ordinal 1 of its batch), not its place in the combined call.
    expect(refusedReference).toMatchObject({ type: '/problems/unknown-reference', pointer: '/events/1/data/milestone' });
    expect(refusedVersion).toMatchObject({ type: '/problems/version-conflict', expectedVersion: 1, pointer: '/events/0' });
    const page = streamPageOf(await get(t.app, `/v1/streams/${stream}/events?limit=1000`));
    const stored = page.events.filter((e) => e.streamVersion > before).map((e) => e.data);
    const kept = Array.from({ length: N }, (_, i) => i).filter((i) => i !== 4 && i !== 7).map((i) => ({ programId, title: `kept ${i}` }));
    expect(stored).toHaveLength(kept.length);
    expect(stored).toEqual(expect.arrayContaining(kept));
  });

  it('never stores two appends that name the same milestone in one call (each folds, and notifies, on its own)', async () => {
    const { programId, consortiumId, events } = programWithConsortium();
    await record(t.app, ...events);
    const sameCell = (i: number) => ({ type: i % 2 === 0 ? 'milestone.started' : 'evaluation.held', occurredAt: `2026-03-${String(i + 1).padStart(2, '0')}`, data: { programId, milestone: 'defense-pilot', consortiumId } });

    const responses = await Promise.all([
      ...Array.from({ length: N }, (_, i) => post(t.app, sameCell(i))),
      ...Array.from({ length: N }, (_, i) => post(t.app, seminarHeld(programId, `talk ${i}`))),
    ]);

    expect(responses.map((r) => r.status)).toEqual(Array<number>(2 * N).fill(201));
    const moments = responses.slice(0, N).map((r) => eventsOf(r)[0]?.recordedAt);
    expect(new Set(moments).size).toBe(N);
  });
});

describe('a combined append call cut off from the database (src/store/append-combiner.ts)', () => {
  // One call at a time, and a second only once the oldest waiting append has waited 2 s: wide
  // enough that every append sent together is waiting when the second call starts.
  // The statement timeout the instance is told (as DATABASE_STATEMENT_TIMEOUT_MS is) is what its keyless appends cut off wait for.
  const u = useTestApp({ limits: { appendConcurrency: 1, appendMaxCalls: 2, appendOverflowAfterMs: 2000, statementTimeoutMs: 3_500 } });

  it('answers every append of a combined call whose connection is terminated while it waits for a lock 503 commit-outcome-unknown, stores none of them, and stores the call before it (on PGlite, which has no connection to cut, the same appends are all stored)', async () => {
    const { programId, events } = programWithConsortium();
    await record(u.app, ...events);
    const stream = `program:${programId}`;
    const titlesStored = async () =>
      streamPageOf(await get(u.app, `/v1/streams/${stream}/events?limit=1000`)).events.flatMap((e) => (e.type === 'seminar.held' && typeof e.data.title === 'string' ? [e.data.title] : []));
    const combined = Array.from({ length: 6 }, (_, i) => `combined ${i}`);

    if (!u.database.concurrentTransactions) {
      const responses = await Promise.all(combined.map((title) => post(u.app, seminarHeld(programId, title))));
      expect(responses.map((r) => r.status)).toEqual(combined.map(() => 201));
      expect((await titlesStored()).sort()).toEqual([...combined].sort());
      return;
    }
    // The table lock holds each call inside its statement, before it has written anything: the
    // first append alone (the one call allowed at once), then, once the oldest has waited 2 s, the
    // six that came meanwhile, together. The responses are awaited only after the lock is released,
    // so that no failure here can leave a request waiting for the lock this transaction holds.
    const pending = await u.database.db.transaction().execute(async (trx) => {
      await sql`lock table event in share mode`.execute(trx);
      const first = post(u.app, seminarHeld(programId, 'alone'));
      await appendsWaitingForLock(u.database.db, 1);
      const rest = Promise.all(combined.map((title) => post(u.app, seminarHeld(programId, title))));
      const [, second] = await appendsWaitingForLock(u.database.db, 2);
      // Waits (up to 5 s) until the backend has exited, so that it cannot take the lock released below.
      const { rows } = await sql<{ gone: boolean }>`select pg_terminate_backend(${second}, 5000) as gone`.execute(trx);
      expect(rows[0]?.gone).toBe(true);
      return { first, rest };
    });
    const [first, rest] = await Promise.all([pending.first, pending.rest]);

    // The cut call held all six, and each is answered for it.
    expect(rest.map((r) => r.status)).toEqual(combined.map(() => 503));
    expect(first.status).toBe(201);
    for (const response of rest) {
      expect(response.contentType).toContain('application/problem+json');
      // Without a key, a check is final only once the append cannot still be running: the statement timeout, rounded up.
      expect(response.headers['retry-after']).toBe('4');
      const problem = problemOf(response);
      expect(problem).toMatchObject({ type: '/problems/commit-outcome-unknown', status: 503, retryAfterSeconds: 4 });
      expect(problem.detail).toContain('4 seconds (the service\'s statement timeout) have passed since this answer');
      // Sent without an Idempotency-Key: the problem names none and tells how to make a retry safe.
      expect(problem).not.toHaveProperty('idempotencyKey');
      expect(problem.detail).toContain('Idempotency-Key');
    }
    // Each names the id its own event was given (not the call's), and that id is not stored.
    const named = rest.map((response) => z.object({ eventIds: z.array(z.uuid()).length(1) }).parse(problemOf(response)).eventIds[0]);
    expect(new Set(named).size).toBe(combined.length);
    for (const id of named) expect((await get(u.app, `/v1/events/${id}`)).status).toBe(404);
    // What was answered 201 is stored, once; what was cut is not.
    expect(await titlesStored()).toEqual(['alone']);

    // Having checked that none of the cut appends is stored, the writer sends them again: the
    // instance has not kept the dead connection, and each is stored once.
    const retried = await Promise.all(combined.map((title) => post(u.app, seminarHeld(programId, title))));
    expect(retried.map((r) => r.status)).toEqual(combined.map(() => 201));
    expect((await titlesStored()).sort()).toEqual(['alone', ...combined].sort());
  });
});
