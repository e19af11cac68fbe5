import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countEvents } from '../support/event-count.js';
import { programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { eventsOf, get, post, problemOf, record } from '../support/http.js';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();
let programId: string;
beforeAll(async () => {
  const scenario = programWithConsortium();
  programId = scenario.programId;
  await record(t.app, ...scenario.events);
});

describe('Idempotency-Key', () => {
  it('sent twice in sequence stores one event and returns the same body', async () => {
    const key = { 'idempotency-key': uniqueId('key') };
    const body = seminarHeld(programId, 'sequential');
    const before = await countEvents(t.database.db);

    const first = await post(t.app, body, key);
    const second = await post(t.app, body, key);

    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(await countEvents(t.database.db)).toBe(before + 1);
  });

  it('sent 10 times concurrently stores one event and returns the same body to all', async () => {
    const key = { 'idempotency-key': uniqueId('key') };
    const body = { events: [seminarHeld(programId, 'concurrent 1'), seminarHeld(programId, 'concurrent 2')] };
    const before = await countEvents(t.database.db);

    const responses = await Promise.all(Array.from({ length: 10 }, () => post(t.app, body, key)));

    expect(responses.map((r) => r.status)).toEqual(Array<number>(10).fill(201));
    for (const r of responses) expect(r.body).toEqual(responses[0]?.body);
    expect(await countEvents(t.database.db)).toBe(before + 2);
  });

  it('with a different body is refused with 422 and stores nothing', async () => {
    const key = { 'idempotency-key': uniqueId('key') };
    await post(t.app, seminarHeld(programId, 'original'), key);
    const before = await countEvents(t.database.db);

    const reused = await post(t.app, seminarHeld(programId, 'something else'), key);

    expect(reused.status).toBe(422);
    expect(problemOf(reused).type).toBe('/problems/idempotency-key-reused');
    expect(await countEvents(t.database.db)).toBe(before);
  });

  it('does not hold on to a request that failed: the key can be used again once the cause is fixed', async () => {
    const key = { 'idempotency-key': uniqueId('key') };
    const fresh = uniqueId('p');
    const body = { type: 'seminar.held', occurredAt: '2026-06', data: { programId: fresh, title: 'too early' } };

    const failed = await post(t.app, body, key);
    await record(t.app, { type: 'program.registered', occurredAt: '2026', data: { programId: fresh, name: 'Late' } });
    const retried = await post(t.app, body, key);

    expect(failed.status).toBe(422);
    expect(retried.status).toBe(201);
  });

  it('stores again without a key: the same body twice is two events', async () => {
    const before = await countEvents(t.database.db);

    await post(t.app, seminarHeld(programId, 'twice'));
    await post(t.app, seminarHeld(programId, 'twice'));

    expect(await countEvents(t.database.db)).toBe(before + 2);
  });

  it.each([
    ['empty', '', 'an empty Idempotency-Key names no key: send one of 1 to 200 characters, or leave the header out'],
    ['over 200 characters', 'k'.repeat(201), 'an Idempotency-Key is at most 200 characters long'],
  ])('%s is refused with a 400 saying so, and nothing is stored', async (_case, value, detail) => {
    const before = await countEvents(t.database.db);

    const response = await post(t.app, seminarHeld(programId, 'bad key'), { 'idempotency-key': value });

    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({ type: '/problems/validation-failed', errors: [{ detail }] });
    expect(await countEvents(t.database.db)).toBe(before);
  });
});

describe('Idempotency-Key and the order of the feed', () => {
  it("keeps a stream's events, and a cell's status changes, in the feed in the order they were written, when concurrent writers send keys (PostgreSQL server only: PGlite runs one statement at a time)", async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const program = uniqueId('keyed-order');
    const milestones = Array.from({ length: 60 }, (_, i) => `m${i}`);
    await record(
      t.app,
      { type: 'program.registered', occurredAt: '2026-01', data: { programId: program, name: program } },
      ...milestones.map((milestone) => ({ type: 'milestone.planned', occurredAt: '2026-01', data: { programId: program, milestone, title: milestone, scope: 'program' } })),
    );
    // Each its own cell, all on the program's stream; and as many again on one cell, changing its status each time.
    const types = ['milestone.achieved', 'milestone.missed', 'milestone.cancelled'];
    const answers = await Promise.all([
      ...milestones.map((milestone) =>
        post(t.app, { type: 'milestone.started', occurredAt: '2026-03', data: { programId: program, milestone } }, { 'idempotency-key': uniqueId('k') }),
      ),
      ...milestones.map((_, i) =>
        post(
          t.app,
          { type: types[i % 3], occurredAt: new Date(Date.UTC(2026, 7, 1, 0, i)).toISOString(), data: { programId: program, milestone: 'm0' } },
          { 'idempotency-key': uniqueId('k') },
        ),
      ),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array<number>(answers.length).fill(201));

    // Every transaction of this test ended: none is held back from the feed by others still running.
    await waitForFeedHorizon(t.database.db);
    const versions = eventsOf(await get(t.app, `/v1/events?stream=program:${program}&limit=1000`)).map((e) => e.streamVersion);
    expect(versions).toEqual(Array.from({ length: 1 + milestones.length * 3 }, (_, i) => i + 1));
    // Each status change of m0 starts from the status the one before it ended in.
    const feed = await get(t.app, `/v1/feed?follow=false&programId=${program}&topics=milestone.status_changed&limit=1000`);
    const changes = String(feed.body)
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => z.object({ data: z.object({ milestone: z.string(), from: z.string(), to: z.string() }) }).parse(JSON.parse(line.slice(6))).data)
      .filter((change) => change.milestone === 'm0');
    // The first start, then (in the order written) each status change it made of m0.
    expect(changes.length).toBeGreaterThan(milestones.length / 2);
    for (let i = 1; i < changes.length; i++) expect(changes[i]?.from, `change ${i}`).toBe(changes[i - 1]?.to);
  });
});

describe('what an append waits for', () => {
  it("lets a consortium's facts through while another of its facts waits for a program being defined, and answers a replayed key while its stream is locked (PostgreSQL server only: PGlite runs one statement at a time)", async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('waits');
    await record(t.app, ...scenario.events);
    const key = { 'idempotency-key': uniqueId('k') };
    const first = await post(t.app, seminarHeld(scenario.programId, 'replayed'), key);
    expect(first.status).toBe(201);

    let waiting: ReturnType<typeof post> | undefined;
    await t.database.db.transaction().execute(async (trx) => {
      // A plan being recorded in the program holds it; and the program's stream is held too.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`program/${scenario.programId}`}, 0))`.execute(trx);
      await sql`select pg_advisory_xact_lock(hashtextextended(${`stream/program:${scenario.programId}`}, 0))`.execute(trx);
      waiting = post(t.app, { type: 'pilot.started', occurredAt: '2026-03', data: { programId: scenario.programId, consortiumId: scenario.consortiumId, milestone: 'defense-pilot' } });
      await appendsWaitingForLock(t.database.db, 1);

      // Neither waits for what is held: a fact of the same consortium naming no program, and the replay.
      const elsewhere = await post(t.app, { type: 'model.announced', occurredAt: '2026-03', data: { consortiumId: scenario.consortiumId, model: 'A.X' } });
      const replayed = await post(t.app, seminarHeld(scenario.programId, 'replayed'), key);
      expect(elsewhere.status).toBe(201);
      expect(replayed).toMatchObject({ status: 201, body: first.body });
    });
    // Released, the fact that waited goes in.
    expect((await waiting)?.status).toBe(201);
  });
});
