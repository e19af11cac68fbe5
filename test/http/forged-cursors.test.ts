import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { bearer, get, inject, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A cursor comes back from the client: one it did not get from the service is refused with 400
 * invalid-cursor naming `after`, whatever it holds, never passed on to the database to fail there
 * (a 500). From an independent review, which found each of these answered 500.
 */

const t = useTestApp();
const cursor = (text: string) => Buffer.from(text).toString('base64url');
const Page = z.object({ events: z.array(z.object({ id: z.string() })), nextCursor: z.string().optional() });

async function programWithMilestone(): Promise<string> {
  const programId = uniqueId('cursors');
  await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
  return programId;
}

describe('cursors the service did not issue', () => {
  it.each([
    ['an id with a NUL', '/v1/programs', 'k1:\u0000'],
    ['an id with a NUL', '/v1/consortiums', 'k1:a\u0000b'],
    ['an id that is no id', '/v1/programs', "k1:it's"],
    ['a day that does not exist', '/v1/subscriptions', 'c1|2026-02-30T00:00:00.000000Z|00000000-0000-4000-8000-000000000000'],
    ['a day that does not exist', '/v1/api-keys', 'c1|2026-04-31T00:00:00.000000Z|00000000-0000-4000-8000-000000000000'],
    // Year 0 reads fine in JavaScript, and PostgreSQL refuses it: until 2026-12-05, a 500.
    ['year 0', '/v1/subscriptions', 'c1|0000-01-01T00:00:00.000000Z|00000000-0000-4000-8000-000000000000'],
    ['year 0', '/v1/api-keys', 'c1|0000-01-01T00:00:00.000000Z|00000000-0000-4000-8000-000000000000'],
  ])('refuses %s in the cursor of %s with 400 invalid-cursor', async (_what, path, text) => {
    const response = await get(t.app, `${path}?after=${cursor(text)}`);

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after' }] });
  });

  it.each(['/v1/events', '/v1/programs', '/v1/consortiums', '/v1/consortiums/c/status', '/v1/subscriptions', '/v1/api-keys', '/v1/timeline?programId=p', '/v1/feed?follow=false'])(
    'refuses a cursor far longer than any it issues with 400 invalid-cursor, as any other it did not issue, on %s',
    async (path) => {
      const response = await get(t.app, `${path}${path.includes('?') ? '&' : '?'}after=${'A'.repeat(2000)}`);

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after' }] });
    },
  );

  it.each([
    ['before any date a writer can give', 'w1:-999999999999999:1'],
    ['after any date a writer can give', `w1:${Date.UTC(10001, 0, 1)}:1`],
  ])('refuses a timeline or evidence cursor at an instant %s with 400 invalid-cursor', async (_what, text) => {
    const programId = await programWithMilestone();
    for (const url of [`/v1/timeline?programId=${programId}`, `/v1/programs/${programId}/milestones/m/evidence`]) {
      const response = await get(t.app, `${url}${url.includes('?') ? '&' : '?'}after=${cursor(text)}`);

      expect(response.status, url).toBe(400);
      expect(response.body, url).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after' }] });
    }
  });

  it("refuses a feed cursor past every transaction of the database (another database's, or one from before a restore) with 400 invalid-cursor saying how to go on, rather than a feed that stays empty; one of its own at the head stays a 200", async () => {
    const programId = await programWithMilestone();
    // Transaction 2^40: far past any this database has begun, and a well-formed xid8.
    const ahead = cursor(`f1:${String(2 ** 40)}:1`);
    const head = z.object({ nextCursor: z.string() }).parse((await get(t.app, `/v1/events?programId=${programId}`)).body).nextCursor;

    const events = await get(t.app, `/v1/events?after=${ahead}`);
    const feed = await get(t.app, `/v1/feed?follow=false&after=${ahead}`);
    // A following feed taken as is would answer 200 and send nothing: it is refused before it starts.
    const following = await Promise.race([
      inject(t.app, { method: 'GET', url: '/v1/feed', headers: { ...bearer(TEST_ADMIN_KEY), 'last-event-id': ahead } }),
      new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 5000)),
    ]);
    const atHead = await get(t.app, `/v1/events?programId=${programId}&after=${head}`);
    const feedAtHead = await get(t.app, `/v1/feed?follow=false&programId=${programId}&after=${head}`);

    for (const response of [events, feed]) {
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after', detail: expect.stringContaining('without a cursor') }] });
    }
    expect(following).not.toBe('still open');
    if (following === 'still open') return;
    expect(following.statusCode).toBe(400);
    expect(JSON.parse(following.body)).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'last-event-id', detail: expect.stringContaining('has not reached') }] });
    expect(atHead.status).toBe(200);
    expect(atHead.body).toMatchObject({ events: [], nextCursor: head });
    expect(feedAtHead.status).toBe(200);
  });

  it('accepts the cursors it issues at the edges of the dates a writer can give, where an offset moves them out of those years in UTC', async () => {
    const programId = await programWithMilestone();
    const at = (occurredAt: string) => ({ type: 'evaluation.held', occurredAt, data: { programId, milestone: 'm' } });
    const recorded = await record(t.app, at('1000-01-01T00:00:00+05:00'), at('1000-01-01T06:00:00+05:00'), at('9998-12-31T23:00:00-14:00'));

    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const response = await get(t.app, `/v1/timeline?programId=${programId}&limit=1${after === undefined ? '' : `&after=${after}`}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      const { events, nextCursor } = Page.parse(response.body);
      seen.push(...events.map((e) => e.id));
      if (nextCursor === undefined) break;
      after = nextCursor;
    }

    // The program's two definitions (dated 2025 and now), then the three facts, each once.
    expect(seen.filter((id) => recorded.some((e) => e.id === id))).toEqual(recorded.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
  });
});
