import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countEvents } from '../support/event-count.js';
import { programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { eventsOf, get, post, problemOf, record } from '../support/http.js';
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

    const versions = eventsOf(await get(t.app, `/v1/events?stream=program:${program}&limit=1000`)).map((e) => e.streamVersion);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    // Each status change of m0 starts from the status the one before it ended in.
    const feed = await get(t.app, `/v1/feed?follow=false&programId=${program}&topics=milestone.status_changed&limit=1000`);
    const changes = String(feed.body)
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => z.object({ data: z.object({ milestone: z.string(), from: z.string(), to: z.string() }) }).parse(JSON.parse(line.slice(6))).data)
      .filter((change) => change.milestone === 'm0');
    expect(changes.length).toBeGreaterThan(10);
    for (let i = 1; i < changes.length; i++) expect(changes[i]?.from, `change ${i}`).toBe(changes[i - 1]?.to);
  });
});
