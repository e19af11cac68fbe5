import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/webhooks/dispatcher.js';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { programWithConsortium } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, eventsOf, post, record } from '../support/http.js';
import { MessageShape, StatusChangeShape } from '../support/notification-message.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { cell } from '../support/views.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

let receiver: WebhookReceiver;
let dispatcher: Dispatcher | undefined;
beforeAll(async () => {
  receiver = await startWebhookReceiver(() => ({ status: 200 }));
});
afterEach(async () => {
  await dispatcher?.stop(1000);
  dispatcher = undefined;
});
afterAll(async () => receiver?.close());

/**
 * The quarter running now, as a fuzzy date, and its interval: an event dated so has begun (it
 * counts) but has not certainly happened yet. On 2026-12-01 it is 2026-Q4, ending 2027-01-01.
 */
function currentQuarter(now = new Date()) {
  const year = now.getUTCFullYear();
  const quarter = Math.floor(now.getUTCMonth() / 3);
  return {
    value: `${year}-Q${quarter + 1}`,
    precision: 'quarter',
    start: new Date(Date.UTC(year, quarter * 3, 1)).toISOString(),
    end: new Date(Date.UTC(year, quarter * 3 + 3, 1)).toISOString(),
  };
}

describe('milestone.status_changed, version 2, as subscribers get it', () => {
  it('carries names, titles, since and certain: the same data by webhook and in the feed', async () => {
    const { programId, consortiumId, events } = programWithConsortium('v2');
    const path = `/changes-${programId}`;
    await subscribe(t.app, { url: receiver.url(path), topics: ['milestone.status_changed'], filter: { programId } });
    dispatcher = startTestDispatcher(t.database, {});
    void dispatcher.start();
    await record(t.app, ...events);
    const quarter = currentQuarter();
    const cell = { programId, consortiumId, milestone: 'defense-pilot' };

    // Begun this quarter and recorded now: it may have started, but not certainly until the quarter ends.
    const [started] = await record(t.app, { type: 'pilot.started', occurredAt: quarter.value, data: cell });
    // Dated in a month long over: certainly happened when recorded.
    const [achieved] = await record(t.app, { type: 'milestone.achieved', occurredAt: '2026-06', data: { programId, milestone: 'final-evaluation' } });
    await receiver.waitFor((all) => all.filter((r) => r.path === path).length >= 2);
    await waitForFeedHorizon(t.database.db);
    const feed = await call(t.app, 'GET', `/v1/feed?programId=${programId}&topics=milestone.status_changed&follow=false`);

    const expected = [
      {
        schemaVersion: 2,
        programId,
        programName: `Program ${programId}`,
        milestone: 'defense-pilot',
        milestoneTitle: 'Milestone defense-pilot',
        consortiumId,
        consortiumName: `Consortium ${consortiumId}`,
        from: 'planned',
        to: 'in_progress',
        since: quarter,
        certain: false,
        causedBy: started?.id,
      },
      {
        schemaVersion: 2,
        programId,
        programName: `Program ${programId}`,
        milestone: 'final-evaluation',
        milestoneTitle: 'Milestone final-evaluation',
        from: 'planned',
        to: 'achieved',
        since: { value: '2026-06', precision: 'month', start: '2026-06-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z' },
        certain: true,
        causedBy: achieved?.id,
      },
    ];
    const delivered = receiver.received
      .filter((r) => r.path === path)
      .map((r) => MessageShape.parse(JSON.parse(r.body)))
      .toSorted((a, b) => a.sequence - b.sequence)
      .map((m) => StatusChangeShape.parse(m.data));
    expect(delivered).toEqual(expected);
    expect(feed.status).toBe(200);
    const streamed = parseSse(String(feed.body)).messages.map((m) => StatusChangeShape.parse(MessageShape.parse(JSON.parse(m.data)).data));
    expect(streamed).toEqual(expected);
  });

  it("is stamped with its cause's recording moment, so that a view known at its timestamp shows the change (until 2026-12-06 it was stamped when the append's statement began, before the locks it waited for: the probe of dates saw it 9 ms before its cause)", async () => {
    const { programId, consortiumId, events } = programWithConsortium('stamp');
    await record(t.app, ...events);
    const fact = { type: 'pilot.started', occurredAt: '2026-06', data: { programId, consortiumId, milestone: 'defense-pilot' } };
    // The append waits for its program's lock a while (PGlite, one session, runs it at once), so
    // that its statement begins well before the moment it records.
    const response = t.database.concurrentTransactions
      ? await t.database.db
          .transaction()
          .execute(async (trx) => {
            await sql`select pg_advisory_xact_lock(hashtextextended(${`program/${programId}`}, 0))`.execute(trx);
            const waiting = post(t.app, { events: [fact] });
            await appendsWaitingForLock(t.database.db, 1);
            await sleep(200);
            return { waiting };
          })
          .then(({ waiting }) => waiting)
      : await post(t.app, { events: [fact] });
    expect(response.status).toBe(201);
    const [started] = eventsOf(response);
    await waitForFeedHorizon(t.database.db);
    const feed = await call(t.app, 'GET', `/v1/feed?programId=${programId}&topics=milestone.status_changed&follow=false`);
    const [change] = parseSse(String(feed.body)).messages.map((m) => MessageShape.parse(JSON.parse(m.data)));

    expect(StatusChangeShape.parse(change?.data)).toMatchObject({ to: 'in_progress', causedBy: started?.id });
    expect(change?.timestamp).toBe(started?.recordedAt);
    const known = await cell(t.app, programId, 'defense-pilot', consortiumId, `?knownAt=${change?.timestamp ?? ''}`);
    expect(known.status).toBe('in_progress');
  });
});
