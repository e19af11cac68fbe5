import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATUS_CHANGED } from '../../src/domain/notification.js';
import { messageIdOf } from '../../src/domain/notification-message.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, problemOf, record } from '../support/http.js';
import { MessageShape, StatusChangeShape, transitionOf } from '../support/notification-message.js';
import { openSse, parseSse, type SseMessage } from '../support/sse.js';
import { startTestApp, useTestApp } from '../support/test-app.js';

const POLL_MS = 50;
const t = useTestApp({ limits: { feedPollMs: POLL_MS } });

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});

const messageOf = (m: SseMessage) => MessageShape.parse(JSON.parse(m.data));

const pilotStarted = (programId: string, consortiumId: string) => ({
  type: 'pilot.started',
  occurredAt: '2026-05',
  data: { programId, consortiumId, milestone: 'defense-pilot' },
});
const pilotCompleted = (programId: string, consortiumId: string) => ({
  type: 'pilot.completed',
  occurredAt: '2026-06',
  data: { programId, consortiumId, milestone: 'defense-pilot' },
});
const milestoneAchieved = (programId: string) => ({
  type: 'milestone.achieved',
  occurredAt: '2026-07',
  data: { programId, milestone: 'final-evaluation' },
});

/** What the feed owes a reader of this program: every listed notification, by position, as message ids. */
async function notificationsOf(programId: string): Promise<string[]> {
  const rows = await t.database.db
    .selectFrom('notification')
    .select('id')
    .where('program_id', '=', programId)
    .where('only_subscription', 'is', null)
    .orderBy('position')
    .execute();
  return rows.map((r) => messageIdOf(r.id));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`${what} took over ${ms} ms`)));
  return Promise.race([promise, timeout]);
}

describe('GET /v1/feed (server-sent events)', () => {
  it('delivers every notification of a program exactly once and in order across a dropped connection resumed with Last-Event-ID', async () => {
    const { programId, consortiumId, events } = programWithConsortium('live');
    await record(t.app, ...events);
    const before = (await notificationsOf(programId)).length;
    const first = await openSse(t.app, `/v1/feed?programId=${programId}`);
    await first.waitFor((ms) => ms.length >= before);
    const [pilot] = await record(t.app, pilotStarted(programId, consortiumId));
    await first.waitFor((ms) => ms.some((m) => m.event === 'pilot.started'));
    // The client crashes having handled messages up to the pilot's own: what came after it is unread.
    const handled = first.messages.slice(0, first.messages.findIndex((m) => m.event === 'pilot.started') + 1);
    first.destroy();
    await record(t.app, seminarHeld(programId, 'while away'));
    await record(t.app, milestoneAchieved(programId), pilotCompleted(programId, consortiumId));
    const lastId = handled.at(-1)?.id ?? '';
    const missed = (await notificationsOf(programId)).length - handled.length;

    const second = await openSse(t.app, `/v1/feed?programId=${programId}`, { 'last-event-id': lastId });
    await second.waitFor((ms) => ms.length >= missed);
    await record(t.app, seminarHeld(programId, 'while back'));
    await second.waitFor((ms) => ms.length >= missed + 1);
    await sleep(POLL_MS * 4);
    second.destroy();

    const received = [...handled, ...second.messages].map(messageOf);
    expect(await first.ended).toBe('aborted');
    expect(second.status).toBe(200);
    expect(second.headers['content-type']).toContain('text/event-stream');
    expect(received.map((m) => m.id)).toEqual(await notificationsOf(programId));
    expect(received.map((m) => m.sequence)).toEqual(received.map((m) => m.sequence).toSorted((a, b) => a - b));
    expect([...handled, ...second.messages].every((m) => m.event === messageOf(m).type && m.id !== undefined)).toBe(true);
    expect(received.filter((m) => m.type === STATUS_CHANGED).map((m) => StatusChangeShape.parse(m.data).causedBy)).toContain(pilot?.id);
    expect(received.filter((m) => m.type === STATUS_CHANGED)).toHaveLength(3);
  });

  it('with topics=milestone.status_changed sends only status changes, each with from, to and the event that caused it', async () => {
    const { programId, consortiumId, events } = programWithConsortium('topics');
    await record(t.app, ...events);
    const [started] = await record(t.app, pilotStarted(programId, consortiumId));
    const [completed] = await record(t.app, pilotCompleted(programId, consortiumId));
    const [achieved] = await record(t.app, milestoneAchieved(programId));
    await waitForFeedHorizon(t.database.db);

    const feed = await openSse(t.app, `/v1/feed?topics=${STATUS_CHANGED}&programId=${programId}&follow=false`);
    const ended = await withTimeout(feed.ended, 5_000, 'a follow=false feed');

    expect(ended).toBe('end');
    expect(feed.messages.map((m) => m.event)).toEqual([STATUS_CHANGED, STATUS_CHANGED, STATUS_CHANGED]);
    expect(feed.messages.map((m) => transitionOf(StatusChangeShape.parse(messageOf(m).data)))).toEqual([
      { programId, milestone: 'defense-pilot', consortiumId, from: 'planned', to: 'in_progress', causedBy: started?.id },
      { programId, milestone: 'defense-pilot', consortiumId, from: 'in_progress', to: 'achieved', causedBy: completed?.id },
      { programId, milestone: 'final-evaluation', from: 'planned', to: 'achieved', causedBy: achieved?.id },
    ]);
  });

  it('narrows by a prefix pattern and consortiumId, and sends an event topic with the event as data', async () => {
    const { programId, consortiumId, events } = programWithConsortium('prefix');
    await record(t.app, ...events);
    const [started] = await record(t.app, pilotStarted(programId, consortiumId), seminarHeld(programId));
    await waitForFeedHorizon(t.database.db);

    const response = await call(t.app, 'GET', `/v1/feed?topics=pilot.*,consortium.*&consortiumId=${consortiumId}&follow=false`);
    const messages = parseSse(String(response.body)).messages.map(messageOf);

    expect(messages.map((m) => m.type)).toEqual(['consortium.registered', 'consortium.enrolled', 'pilot.started']);
    expect(messages[2]?.data).toMatchObject({ id: started?.id, type: 'pilot.started', data: { consortiumId, milestone: 'defense-pilot' } });
  });

  it('with follow=false answers what is available now as an event stream and ends', async () => {
    const { programId, events } = programWithConsortium('once');
    await record(t.app, ...events);
    await waitForFeedHorizon(t.database.db);

    const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`);
    const { messages, rest } = parseSse(String(response.body));

    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    expect(response.contentType).toContain('text/event-stream');
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
    expect(messages.map((m) => messageOf(m).id)).toEqual(await notificationsOf(programId));
    expect(rest).toBe('');
  });

  it('with follow=false sends at most `limit` messages, and `after` the last one reads on without a gap', async () => {
    const { programId, events } = programWithConsortium('paged');
    await record(t.app, ...events);
    await waitForFeedHorizon(t.database.db);
    const all = await notificationsOf(programId);

    const pages: string[][] = [];
    let after = '';
    for (let i = 0; i < 10 && pages.flat().length < all.length; i++) {
      const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false&limit=2${after}`);
      const { messages } = parseSse(String(response.body));
      pages.push(messages.map((m) => messageOf(m).id));
      after = `&after=${encodeURIComponent(messages.at(-1)?.id ?? '')}`;
    }

    expect(all.length).toBeGreaterThan(2);
    expect(pages.every((page) => page.length <= 2)).toBe(true);
    expect(pages.flat()).toEqual(all);
  });

  it('resumes after Last-Event-ID even when the URL still carries an older `after`', async () => {
    const { programId, events } = programWithConsortium('resume');
    await record(t.app, ...events);
    await waitForFeedHorizon(t.database.db);
    const all = parseSse(String((await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`)).body)).messages;

    const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false&after=${all[0]?.id ?? ''}`, undefined, {
      'last-event-id': all[2]?.id ?? '',
    });

    expect(all.map((m) => messageOf(m).id)).toEqual(await notificationsOf(programId));
    expect(all.length).toBeGreaterThan(3);
    expect(parseSse(String(response.body)).messages).toEqual(all.slice(3));
  });

  const forged = Buffer.from('f1:1:x').toString('base64url');
  it.each([
    // follow=false: were the request accepted, inject() would return the stream rather than wait on it for ever.
    ['a Last-Event-ID it did not issue', '/v1/feed?follow=false', { 'last-event-id': 'garbage' }, '/problems/invalid-cursor', 'garbage'],
    ['an `after` it did not issue', `/v1/feed?follow=false&after=${forged}`, {}, '/problems/invalid-cursor', forged],
    ['an unknown topic', '/v1/feed?follow=false&topics=pilot.*,no.such', {}, '/problems/validation-failed', '"no.such"'],
  ])('refuses %s with 400 before any stream starts', async (_case, url, headers, type, named) => {
    const response = await call(t.app, 'GET', url, undefined, headers);

    expect(response.status).toBe(400);
    expect(response.contentType).toContain('application/problem+json');
    expect(problemOf(response)).toMatchObject({ type, status: 400 });
    expect(problemOf(response).detail).toContain(named);
  });

  it.each([
    ['the Last-Event-ID header', { 'last-event-id': 'garbage' }, '', 'last-event-id'],
    ['the after parameter', {}, `&after=${forged}`, 'after'],
  ])('names %s as where a cursor it did not issue came from', async (_case, headers, query, parameter) => {
    const response = await call(t.app, 'GET', `/v1/feed?follow=false${query}`, undefined, headers);

    expect(problemOf(response)).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter }] });
  });

  it('takes an empty Last-Event-ID as none, as the SSE standard does: the feed starts where it would without it', async () => {
    const { programId, events } = programWithConsortium('empty-id');
    await record(t.app, ...events);
    await waitForFeedHorizon(t.database.db);

    const without = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`);
    const empty = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`, undefined, { 'last-event-id': '' });

    expect(empty.status).toBe(200);
    expect(parseSse(String(empty.body)).messages).toEqual(parseSse(String(without.body)).messages);
    expect(parseSse(String(empty.body)).messages.length).toBeGreaterThan(0);
  });

  it('does not hold up app.close() while a feed is open, and ends the feed cleanly', async () => {
    const own = await startTestApp();
    try {
      await own.app.listen({ port: 0, host: '127.0.0.1' });
      const feed = await openSse(own.app, '/v1/feed');
      expect(feed.status).toBe(200);

      const started = Date.now();
      await withTimeout(own.app.close(), 5_000, 'app.close() with an open feed');

      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await withTimeout(feed.ended, 1_000, 'the feed ending')).toBe('end');
    } finally {
      await own.database.close();
    }
  });

  it('ends the stream when reading fails, so that the client reconnects and resumes', async () => {
    const own = await startTestApp({ limits: { feedPollMs: POLL_MS } });
    try {
      await own.app.listen({ port: 0, host: '127.0.0.1' });
      const feed = await openSse(own.app, '/v1/feed');

      await own.database.close();

      expect(await withTimeout(feed.ended, 5_000, 'the feed ending after a failed read')).toBe('end');
    } finally {
      await withTimeout(own.app.close(), 5_000, 'app.close()');
    }
  });
});
