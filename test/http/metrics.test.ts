import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { createMetrics } from '../../src/http/metrics.js';
import { recordEvents } from '../../src/services/record-events.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { sql } from 'kysely';
import { call, eventsOf, post, record, TEST_ADMIN_KEY } from '../support/http.js';
import { scrape, samplesOf, sumOf, valueOf, type Exposition } from '../support/prometheus-text.js';
import { openRaw } from '../support/raw-connection.js';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { openSse } from '../support/sse.js';
import { startTestApp, useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const metrics = createMetrics();
const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS, metrics });

let receiver: WebhookReceiver;
/** Fails the first attempt of each message with a 500, then accepts it. */
beforeAll(async () => {
  receiver = await startWebhookReceiver(({ nth }) => (nth === 1 ? { status: 500, body: 'not yet' } : { status: 200 }));
});
afterAll(async () => receiver?.close());

const NAMED_SERIES = {
  ml_http_requests_total: 'counter',
  ml_http_request_duration_seconds: 'histogram',
  ml_events_appended_total: 'counter',
  ml_append_batches_total: 'counter',
  ml_milestone_cells: 'gauge',
  ml_status_changes_total: 'counter',
  ml_feed_lag_events: 'gauge',
  ml_feed_lag_seconds: 'gauge',
  ml_feed_horizon_age_seconds: 'gauge',
  ml_webhook_queue_depth: 'gauge',
  ml_webhook_oldest_due_seconds: 'gauge',
  ml_webhook_attempts_total: 'counter',
  ml_webhook_leases_expired_total: 'counter',
  ml_webhook_attempt_duration_seconds: 'histogram',
  ml_operational_stats_up: 'gauge',
  ml_live_feeds_open: 'gauge',
  ml_appends_waiting: 'gauge',
  ml_append_calls_running: 'gauge',
} as const;

const appendsOn = (route: string, status: string) => ({ method: 'POST', route, status });
const delta = (before: Exposition, after: Exposition, name: string, labels: Record<string, string> = {}) =>
  sumOf(after, name, labels) - sumOf(before, name, labels);

/** The test app's address on TCP, listening from the first test that asks. */
async function listening(): Promise<string> {
  const address = t.app.server.address();
  if (address !== null && typeof address !== 'string') return `http://127.0.0.1:${address.port}`;
  return t.app.listen({ port: 0, host: '127.0.0.1' });
}

describe('GET /metrics', () => {
  it('answers without a key, in the Prometheus text format, with every named series and the process metrics', async () => {
    const exposition = await scrape(t.app);

    for (const [name, type] of Object.entries(NAMED_SERIES)) expect(exposition.types.get(name), name).toBe(type);
    expect(valueOf(exposition, 'ml_operational_stats_up')).toBe(1);
    expect(samplesOf(exposition, 'ml_webhook_queue_depth').map((s) => s.labels['state']).sort()).toEqual(['failed', 'in_flight', 'pending']);
    expect(samplesOf(exposition, 'ml_milestone_cells')).toHaveLength(5);
    expect(valueOf(exposition, 'ml_feed_lag_events')).toBeGreaterThanOrEqual(0);
    expect(exposition.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('counts each stored event once, not the replay of an idempotency key, and each answer by route pattern and status', async () => {
    const { programId, events } = programWithConsortium('metrics');
    const before = await scrape(t.app);

    const batch = await record(t.app, ...events);
    const first = await post(t.app, seminarHeld(programId), { 'idempotency-key': `k-${programId}` });
    const replay = await post(t.app, seminarHeld(programId), { 'idempotency-key': `k-${programId}` });
    await call(t.app, 'GET', `/v1/events/${batch[0]?.id ?? ''}`);
    await call(t.app, 'GET', '/no/such/route');
    const after = await scrape(t.app);

    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(eventsOf(replay)).toEqual(eventsOf(first));
    expect(delta(before, after, 'ml_events_appended_total')).toBe(events.length + 1);
    expect(delta(before, after, 'ml_append_batches_total', { result: 'stored' })).toBe(2);
    expect(delta(before, after, 'ml_append_batches_total', { result: 'replayed' })).toBe(1);
    expect(delta(before, after, 'ml_http_requests_total', appendsOn('/v1/events', '201'))).toBe(3);
    expect(delta(before, after, 'ml_http_request_duration_seconds_count', appendsOn('/v1/events', '201'))).toBe(3);
    expect(delta(before, after, 'ml_http_requests_total', { method: 'GET', route: '/v1/events/:id', status: '200' })).toBe(1);
    expect(delta(before, after, 'ml_http_requests_total', { method: 'GET', route: '404', status: '404' })).toBe(1);
    expect(samplesOf(after, 'ml_http_requests_total').some((s) => s.labels['route']?.includes(programId))).toBe(false);
  });

  it('follows the projection: new milestone cells, and a status change once it is visible to readers', async () => {
    const { programId, consortiumId, events } = programWithConsortium('projection');
    const before = await scrape(t.app);

    await record(t.app, ...events, { type: 'pilot.started', occurredAt: '2026-06', data: { programId, consortiumId, milestone: 'defense-pilot' } });

    // Another test file's open transaction (one server, one horizon) may hold the change back for a moment.
    await expect.poll(async () => delta(before, await scrape(t.app), 'ml_status_changes_total'), { timeout: 15_000 }).toBe(1);
    const after = await scrape(t.app);
    expect(delta(before, after, 'ml_milestone_cells', { status: 'in_progress' })).toBe(1);
    expect(delta(before, after, 'ml_milestone_cells', { status: 'planned' })).toBe(1);
  });

  it('shows a due delivery waiting while no dispatcher runs, then the attempts by outcome and the queue draining', async () => {
    const { programId, events } = programWithConsortium('queue');
    await record(t.app, ...events);
    await subscribe(t.app, { url: receiver.url(`/queue-${programId}`), topics: ['seminar.held'], filter: { programId } });
    const before = await scrape(t.app);

    await record(t.app, seminarHeld(programId));
    await sleep(20);
    const waiting = await scrape(t.app);
    const dispatcher = startTestDispatcher(t.database, { onAttempt: metrics.onAttempt });
    await dispatcher.start();
    try {
      await receiver.waitFor((all) => all.filter((r) => r.path === `/queue-${programId}` && r.status === 200).length === 1);
      // The dispatcher counts the attempt once it has recorded it, a moment after the receiver answered.
      await expect.poll(async () => delta(before, await scrape(t.app), 'ml_webhook_attempts_total', { outcome: 'succeeded' }), { timeout: 10_000 }).toBe(1);
    } finally {
      await dispatcher.stop(1000);
    }
    const drained = await scrape(t.app);

    expect(delta(before, waiting, 'ml_webhook_queue_depth', { state: 'pending' })).toBe(1);
    expect(valueOf(waiting, 'ml_webhook_oldest_due_seconds')).toBeGreaterThan(0);
    expect(delta(before, drained, 'ml_webhook_attempts_total', { outcome: 'retry', error_kind: 'http' })).toBe(1);
    expect(delta(before, drained, 'ml_webhook_attempts_total', { outcome: 'succeeded', error_kind: 'none' })).toBe(1);
    expect(delta(before, drained, 'ml_webhook_attempt_duration_seconds_count')).toBe(2);
    expect(valueOf(drained, 'ml_webhook_queue_depth', { state: 'pending' })).toBe(0);
    expect(valueOf(drained, 'ml_webhook_queue_depth', { state: 'in_flight' })).toBe(0);
    expect(valueOf(drained, 'ml_webhook_oldest_due_seconds')).toBe(0);
  });

  it(
    'counts committed events the feed holds back behind an open transaction, and the age of that transaction',
    async () => {
      const { programId, consortiumId, events } = programWithConsortium('lag');
      await record(t.app, ...events);
      // PGlite runs one transaction at a time, so nothing can be held back there: the lag must be nil.
      // (On a PostgreSQL server other test files' transactions may hold some back at any moment.)
      if (!t.database.concurrentTransactions) {
        const calm = await scrape(t.app);
        expect(valueOf(calm, 'ml_feed_lag_events')).toBe(0);
        expect(valueOf(calm, 'ml_feed_lag_seconds')).toBe(0);
        return;
      }
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding = () => {};
      const held = new Promise<void>((resolve) => (holding = resolve));
      const slowWriter = t.database.db.transaction().execute(async (trx) => {
        const event = ProposedEvent.parse({ type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId } });
        await recordEvents(trx, { events: [event], principal: { keyId: '00000000-0000-4000-8000-000000000002', name: 'slow', role: 'writer' }, requestId: 'held', idempotencyKey: undefined });
        holding();
        await released;
      });
      await held;

      try {
        await record(t.app, seminarHeld(programId, 'behind the open transaction'));
        await sleep(50);
        const lagging = await scrape(t.app);

        expect(valueOf(lagging, 'ml_feed_lag_events')).toBeGreaterThanOrEqual(1);
        expect(valueOf(lagging, 'ml_feed_lag_seconds')).toBeGreaterThan(0);
        expect(valueOf(lagging, 'ml_feed_horizon_age_seconds')).toBeGreaterThan(0.04);
      } finally {
        release();
        await slowWriter;
      }
    },
  );

  it('counts a request its client gave up on: a live feed the client closed, by the status it was sent, and a read abandoned while it waited, as 499 (probe of the metrics)', async () => {
    const base = await listening();
    const feedAnswers = { method: 'GET', route: '/v1/feed', status: '200' };
    const before = await scrape(t.app);

    const closing = new AbortController();
    const feed = await fetch(`${base}/v1/feed?after=now`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, signal: closing.signal });
    expect(feed.status).toBe(200);
    closing.abort();
    await expect.poll(async () => delta(before, await scrape(t.app), 'ml_http_requests_total', feedAnswers)).toBe(1);

    if (!t.database.concurrentTransactions) return;
    // A read that waits for a lock, which its client gives up on.
    const { programId, events } = programWithConsortium('abandoned');
    await record(t.app, ...events);
    const matrix = { method: 'GET', route: '/v1/programs/:programId/milestones' };
    await t.database.db.transaction().execute(async (trx) => {
      await sql`lock table milestone_cell in access exclusive mode`.execute(trx);
      const gaveUp = new AbortController();
      const read = fetch(`${base}/v1/programs/${programId}/milestones`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, signal: gaveUp.signal }).catch(() => 'gave up');
      await sleep(300);
      gaveUp.abort();
      expect(await read).toBe('gave up');
      // Held a moment more: the request, its client gone, is still waiting for the lock.
      await sleep(200);
    });
    // Counted once, as abandoned, not again when its handler ends after the lock.
    await expect.poll(async () => delta(before, await scrape(t.app), 'ml_http_requests_total', { ...matrix, status: '499' })).toBe(1);
    await sleep(300);
    expect(delta(before, await scrape(t.app), 'ml_http_requests_total', matrix)).toBe(1);
  });

  it("counts a request whose body Node could not parse, answered by Node after the headers, with Node's status, not as one its client gave up on (review of the metrics)", async () => {
    await listening();
    const appends = { method: 'POST', route: '/v1/events' };
    const before = await scrape(t.app);

    const { socket, closed } = await openRaw(t.app);
    // Headers whole, then a chunk size that is no number.
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n`);
    const { received } = await closed;

    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    await expect.poll(async () => delta(before, await scrape(t.app), 'ml_http_requests_total', { ...appends, status: '400' })).toBe(1);
    expect(delta(before, await scrape(t.app), 'ml_http_requests_total', { ...appends, status: '499' })).toBe(0);
  });

  it('says how many live feeds the instance holds open, as they open and end', async () => {
    await listening();
    // Feeds of the tests before, closed by their clients, may still be ending: none is open once they have.
    await expect.poll(async () => valueOf(await scrape(t.app), 'ml_live_feeds_open'), { timeout: 10_000 }).toBe(0);
    const feeds = await Promise.all([openSse(t.app, '/v1/feed?after=now'), openSse(t.app, '/v1/feed?after=now')]);
    expect(feeds.map((feed) => feed.status)).toEqual([200, 200]);

    expect(valueOf(await scrape(t.app), 'ml_live_feeds_open')).toBe(2);
    feeds[0]?.destroy();
    await expect.poll(async () => valueOf(await scrape(t.app), 'ml_live_feeds_open'), { timeout: 10_000 }).toBe(1);
    feeds[1]?.destroy();
    await expect.poll(async () => valueOf(await scrape(t.app), 'ml_live_feeds_open'), { timeout: 10_000 }).toBe(0);
  });

  it("says how many of the pool's connections are busy and how many queries wait for one, on a server (PGlite has no pool)", async () => {
    const small = await startTestApp({ poolSize: 3, metrics: (database) => createMetrics({ poolUse: database.poolUse }) });
    try {
      if (small.database.poolUse === undefined) {
        expect((await scrape(small.app)).types.has('ml_db_pool_connections')).toBe(false);
        return;
      }
      // Five queries on three connections: three run, two wait.
      const sleeping = Array.from({ length: 5 }, () => sql`select pg_sleep(1)`.execute(small.database.db));
      await expect.poll(() => small.database.poolUse?.().waiting, { timeout: 5_000 }).toBe(2);
      const during = await scrape(small.app);
      await Promise.all(sleeping);
      const after = await scrape(small.app);

      // The pool's gauges are read first, before the scrape's own statement asks for a connection.
      expect(valueOf(during, 'ml_db_pool_connections', { state: 'busy' })).toBe(3);
      expect(valueOf(during, 'ml_db_pool_max_connections')).toBe(3);
      expect(valueOf(during, 'ml_db_pool_waiting')).toBeGreaterThanOrEqual(2);
      expect(valueOf(after, 'ml_db_pool_waiting')).toBe(0);
      expect(valueOf(after, 'ml_db_pool_connections', { state: 'busy' })).toBe(0);
      expect(valueOf(after, 'ml_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);
    } finally {
      await small.close();
    }
  });

  it('says how many appends wait to be stored together and how many append calls run, while a call waits for a lock (PostgreSQL server only: PGlite is one session)', async () => {
    if (t.database.url === undefined) return;
    const one = await startTestApp({ limits: { appendConcurrency: 1, appendMaxCalls: 1 }, metrics: () => createMetrics() });
    let release = () => {};
    const released = new Promise<undefined>((resolve) => {
      release = () => resolve(undefined);
    });
    let holding: Promise<void> = Promise.resolve();
    try {
      const { programId, consortiumId, events } = programWithConsortium('queued');
      await record(one.app, ...events);
      const fact = (milestone: string) => ({ type: 'milestone.started', occurredAt: '2026-05', data: { programId, consortiumId, milestone } });
      // Held as an append holds a program it defines something in: an append of a fact about one of
      // its milestones waits for it; the seminars after it wait in the combiner, behind that call.
      holding = one.database.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${`program/${programId}`}, 0))`.execute(trx);
        await released;
      });
      const first = post(one.app, fact('defense-pilot'));
      await appendsWaitingForLock(one.database.db, 1);
      const queued = [post(one.app, fact('final-evaluation')), post(one.app, seminarHeld(programId)), post(one.app, seminarHeld(programId))];
      await expect.poll(async () => valueOf(await scrape(one.app), 'ml_appends_waiting')).toBe(3);
      expect(valueOf(await scrape(one.app), 'ml_append_calls_running')).toBe(1);

      release();
      await holding;
      expect((await Promise.all([first, ...queued])).map((r) => r.status)).toEqual([201, 201, 201, 201]);
      await expect.poll(async () => {
        const after = await scrape(one.app);
        return [valueOf(after, 'ml_appends_waiting'), valueOf(after, 'ml_append_calls_running')];
      }).toEqual([0, 0]);
    } finally {
      // A failed expectation above must not leave the lock held: closing would wait for it.
      release();
      await holding.catch(() => {});
      await one.close();
    }
  });

  it('still answers when the database is down, without the series it could not read', async () => {
    const broken = await startTestApp();
    await broken.database.close();

    const exposition = await scrape(broken.app);
    await broken.app.close();

    expect(valueOf(exposition, 'ml_operational_stats_up')).toBe(0);
    for (const name of ['ml_webhook_queue_depth', 'ml_webhook_oldest_due_seconds', 'ml_feed_lag_events', 'ml_feed_horizon_age_seconds', 'ml_milestone_cells']) {
      expect(samplesOf(exposition, name), name).toEqual([]);
    }
    expect(exposition.types.get('ml_http_requests_total')).toBe('counter');
  });
});
