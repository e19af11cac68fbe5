import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { recordEvents } from '../../src/services/record-events.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, record } from '../support/http.js';
import { openSse, parseSse, type SseMessage } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

const POLL_MS = 50;
const t = useTestApp({ limits: { feedPollMs: POLL_MS } });

beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});

const Message = z.object({ type: z.string(), data: z.object({ id: z.uuid() }).loose() });
/** The recorded events' ids the feed carried, leaving out the id-only frame that marks where it started. */
const eventIdsOf = (messages: readonly SseMessage[]) => messages.filter((m) => m.data !== '').map((m) => Message.parse(JSON.parse(m.data)).data.id);
const feedOf = (programId: string) => `/v1/feed?programId=${programId}&topics=seminar.held,pilot.started`;

describe('GET /v1/feed?after=now', () => {
  it('skips what was committed before and delivers what is recorded afterwards, starting with an id that resumes there', async () => {
    const { programId, events } = programWithConsortium('now');
    await record(t.app, ...events);
    await record(t.app, seminarHeld(programId, 'before'));
    await waitForFeedHorizon(t.database.db);

    const feed = await openSse(t.app, `${feedOf(programId)}&after=now`);
    const [after] = await record(t.app, seminarHeld(programId, 'after'));
    await feed.waitFor((ms) => eventIdsOf(ms).length >= 1);
    await sleep(POLL_MS * 4);
    feed.destroy();
    const start = feed.messages[0];
    const resumed = await call(t.app, 'GET', `${feedOf(programId)}&follow=false`, undefined, { 'last-event-id': start?.id ?? '' });

    expect(feed.status).toBe(200);
    expect(start).toMatchObject({ event: undefined, data: '' });
    expect(eventIdsOf(feed.messages)).toEqual([after?.id]);
    expect(eventIdsOf(parseSse(String(resumed.body)).messages)).toEqual([after?.id]);
  });

  it('never loses a notification of a transaction still running at the start, and skips one committed above the horizon before it', async () => {
    const { programId, consortiumId, events } = programWithConsortium('now-late');
    await record(t.app, ...events);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = () => {};
    const holding = new Promise<void>((resolve) => (held = resolve));
    let late: string | undefined;
    // An append that has written its notification and not yet committed when the feed starts.
    const slowWriter = t.database.concurrentTransactions
      ? t.database.db.transaction().execute(async (trx) => {
          const [event] = await recordEvents(trx, {
            events: [ProposedEvent.parse({ type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId } })],
            principal: { keyId: '00000000-0000-4000-8000-000000000003', name: 'slow', role: 'writer' },
            requestId: 'late',
            idempotencyKey: undefined,
          });
          late = event?.id;
          held();
          await released;
        })
      : (held(), Promise.resolve());
    await holding;
    // Committed before the start but by a younger transaction: above the horizon, yet already there.
    await record(t.app, seminarHeld(programId, 'before, above the horizon'));

    const feed = await openSse(t.app, `${feedOf(programId)}&after=now`);
    const [recordedAfter] = await record(t.app, seminarHeld(programId, 'right after the start'));
    release();
    await slowWriter;
    const expected = [late, recordedAfter?.id].filter((id) => id !== undefined);
    // On a server the slow writer's event is the one this test is about: it must be there to be expected.
    expect(expected).toHaveLength(t.database.concurrentTransactions ? 2 : 1);
    await feed.waitFor((ms) => eventIdsOf(ms).length >= expected.length);
    await sleep(POLL_MS * 4);
    feed.destroy();

    expect(eventIdsOf(feed.messages)).toEqual(expected);
  });

  it('answers follow=false with only the starting id when nothing came after', async () => {
    const { programId, events } = programWithConsortium('now-empty');
    await record(t.app, ...events, seminarHeld(programId));
    await waitForFeedHorizon(t.database.db);

    const response = await call(t.app, 'GET', `${feedOf(programId)}&after=now&follow=false`);

    expect(response.status).toBe(200);
    const messages = parseSse(String(response.body)).messages;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ event: undefined, data: '' });
  });
});
