import { beforeAll, describe, expect, it } from 'vitest';
import { countEvents } from '../support/event-count.js';
import { programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { post, problemOf, record } from '../support/http.js';
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
