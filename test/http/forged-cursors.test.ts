import { describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../src/app.js';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { z } from 'zod';
import { consortiumEnrolled, milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { bearer, call, get, inject, problemOf, record, TEST_ADMIN_KEY } from '../support/http.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A cursor comes back from the client: one it did not get from the service is refused with 400
 * invalid-cursor naming `after`, whatever it holds, never passed on to the database to fail there
 * (a 500). From an independent review, which found each of these answered 500.
 */

// Subscriptions to hooks.example, which resolves to a public address here, for their cursors.
const webhooks: WebhookSettings = {
  rules: { addresses: parseAllowedCidrs(''), allowHttp: false },
  resolve: async (host) => (host === 'hooks.example' ? [{ address: '93.184.216.34', family: 4 }] : []),
  defaultMaxInFlight: 4,
};
const t = useTestApp({ webhooks });
const cursor = (text: string) => Buffer.from(text).toString('base64url');
/** The id of the last message of a page of the feed (text/event-stream): where a reader resumes. */
async function feedCursorOf(url: string): Promise<string> {
  const response = await inject(t.app, { url, headers: bearer(TEST_ADMIN_KEY) });
  const id = parseSse(response.body).messages.findLast((m) => m.id !== undefined)?.id;
  if (id === undefined) throw new Error(`no message with an id in ${url}: ${response.body.slice(0, 200)}`);
  return id;
}
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
    const feedHead = await feedCursorOf(`/v1/feed?follow=false&programId=${programId}`);
    const feedAtHead = await get(t.app, `/v1/feed?follow=false&programId=${programId}&after=${feedHead}`);

    for (const response of [events, feed]) {
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after', detail: expect.stringContaining('without a cursor') }] });
    }
    // The detail quotes the cursor as sent, not as read (a cursor of the older form is read as the newer one).
    expect(problemOf(events).detail).toContain(`'${ahead}'`);
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

describe('a cursor of another list, or of this list for another subject', () => {
  const nextOf = async (url: string) => z.object({ nextCursor: z.string() }).parse((await get(t.app, url)).body).nextCursor;
  const refusedAsOther = async (url: string, parameter: 'after' | 'last-event-id' = 'after') => {
    const response = await get(t.app, url);
    expect(response.status, url).toBe(400);
    expect(response.body, url).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter, detail: expect.stringContaining('another list') }] });
  };

  it('is refused with 400 invalid-cursor saying so, rather than read as a place in it (a silently short or empty page)', async () => {
    // Two programs, one consortium in both, two facts in one cell of each program.
    const one = programWithConsortium('other-list');
    const two = programWithConsortium('other-list');
    const facts = (programId: string) =>
      ['2026-03-01', '2026-03-02'].map((occurredAt) => ({ type: 'evaluation.held', occurredAt, data: { programId, milestone: 'final-evaluation' } }));
    await record(t.app, ...one.events, ...two.events, consortiumEnrolled(one.consortiumId, two.programId), ...facts(one.programId), ...facts(two.programId));
    const evidence = (programId: string) => `/v1/programs/${programId}/milestones/final-evaluation/evidence?limit=1`;

    const programs = await nextOf('/v1/programs?limit=1');
    const timeline = await nextOf(`/v1/timeline?programId=${one.programId}&limit=1`);
    const status = await nextOf(`/v1/consortiums/${one.consortiumId}/status?limit=1`);
    const cell = await nextOf(evidence(one.programId));
    const events = await nextOf('/v1/events?limit=1');
    const feed = await feedCursorOf('/v1/feed?follow=false&limit=1');
    await call(t.app, 'POST', '/v1/api-keys', { name: uniqueId('second-key'), role: 'reader' });
    const keys = await nextOf('/v1/api-keys?limit=1');

    await refusedAsOther(`/v1/consortiums?after=${programs}`);
    await refusedAsOther(`${evidence(one.programId)}&after=${timeline}`);
    await refusedAsOther(`/v1/timeline?programId=${one.programId}&after=${status}`);
    await refusedAsOther(`/v1/consortiums/${one.consortiumId}/status?after=${timeline}`);
    // The same list for another subject: another program's timeline, another cell's evidence.
    await refusedAsOther(`/v1/timeline?programId=${two.programId}&after=${timeline}`);
    await refusedAsOther(`${evidence(two.programId)}&after=${cell}`);
    await refusedAsOther(`/v1/feed?follow=false&after=${events}`);
    await refusedAsOther(`/v1/events?after=${feed}`);
    await refusedAsOther(`/v1/subscriptions?after=${keys}`);
    await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/a', topics: ['program.registered'] });
    await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/b', topics: ['program.registered'] });
    await refusedAsOther(`/v1/api-keys?after=${await nextOf('/v1/subscriptions?limit=1')}`);
    // Another consortium's status.
    await refusedAsOther(`/v1/consortiums/${two.consortiumId}/status?after=${status}`);
    // Lists whose cursors have other forms.
    await refusedAsOther(`/v1/timeline?programId=${one.programId}&after=${programs}`);
    await refusedAsOther(`/v1/programs?after=${events}`);
    await refusedAsOther(`/v1/api-keys?after=${timeline}`);
    const following = await inject(t.app, { method: 'GET', url: '/v1/feed', headers: { ...bearer(TEST_ADMIN_KEY), 'last-event-id': events } });
    expect(following.statusCode).toBe(400);
    expect(JSON.parse(following.body)).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'last-event-id', detail: expect.stringContaining('another list') }] });

    // Each list takes its own, for its own subject.
    for (const url of [`/v1/api-keys?after=${keys}`, `/v1/programs?after=${programs}`, `/v1/timeline?programId=${one.programId}&after=${timeline}`, `/v1/consortiums/${one.consortiumId}/status?after=${status}`, `${evidence(one.programId)}&after=${cell}`, `/v1/events?after=${events}`, `/v1/feed?follow=false&after=${feed}`]) {
      expect((await get(t.app, url)).status, url).toBe(200);
    }
  });

  it('takes a cursor written before cursors named their list (version 1) as before, so that a walk under way through an upgrade goes on', async () => {
    const programId = await programWithMilestone();
    const scenario = programWithConsortium('legacy');
    await record(t.app, ...scenario.events);
    const legacy = [
      `/v1/programs?after=${cursor(`k1:${programId}`)}`,
      `/v1/consortiums?after=${cursor('k1:a')}`,
      `/v1/timeline?programId=${programId}&after=${cursor(`w1:${Date.UTC(2026, 0, 1)}:1`)}`,
      `/v1/programs/${programId}/milestones/m/evidence?after=${cursor(`w1:${Date.UTC(2026, 0, 1)}:1`)}`,
      `/v1/api-keys?after=${cursor('c1|2026-01-01T00:00:00.000000Z|00000000-0000-4000-8000-000000000000')}`,
      `/v1/subscriptions?after=${cursor('c1|2026-01-01T00:00:00.000000Z|00000000-0000-4000-8000-000000000000')}`,
      `/v1/consortiums/${scenario.consortiumId}/status?after=${cursor(`w1:${Date.UTC(2026, 0, 1)}:1`)}`,
      `/v1/events?after=${cursor('f1:1:1')}`,
      `/v1/feed?follow=false&after=${cursor('f1:1:1')}`,
    ];
    for (const url of legacy) expect((await get(t.app, url)).status, url).toBe(200);
  });

  it.each([
    ['an id that is no id', '/v1/programs', "k2:programs:it's"],
    ['an instant before any date a writer can give', '/v1/timeline?programId=p', 'w2:timeline.AAAAAAAAAAA:-999999999999999:1'],
    ['a day that does not exist', '/v1/api-keys', 'c2|api-keys|2026-02-30T00:00:00.000000Z|00000000-0000-4000-8000-000000000000'],
    ['a position that is no number', '/v1/events', 'f2:events:12:x'],
    ['no fields at all', '/v1/consortiums', 'k2'],
    ['a scope it never writes', '/v1/consortiums', 'k2:zzz:abc'],
  ])('says a cursor of the scoped form holding %s is not one it issued (on %s), not that it is another list\'s', async (_what, path, text) => {
    const response = await get(t.app, `${path}${path.includes('?') ? '&' : '?'}after=${cursor(text)}`);

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after', detail: expect.stringContaining('is not a cursor this service issued') }] });
  });
});
