import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claimDeliveries, reapExpiredLeases } from '../../src/store/webhook-deliveries.js';
import type { Dispatcher } from '../../src/webhooks/dispatcher.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

// How long a recorded outcome may take to appear once the receiver has answered, on a loaded machine.
const RECORDED_WITHIN = { timeout: 20_000 };
// 1000 deliveries take over half a minute on a slow machine with embedded PGlite.
const LONG_TEST_MS = 180_000;
// The hanging endpoint's attempts time out after this (within the test dispatcher's 10 s lease).
const HANG_TIMEOUT_MS = 8_000;

let receiver: WebhookReceiver;
let dispatchers: Dispatcher[] = [];
beforeAll(async () => {
  // /hang never answers: an endpoint that always times out; /slow… answers after 5 s. Everything
  // else answers after 5 ms, long enough for two simultaneous attempts of one message to overlap at the receiver.
  receiver = await startWebhookReceiver(({ path }) =>
    path === '/hang' ? { status: 200, delayMs: Infinity } : { status: 200, delayMs: path.startsWith('/slow') ? 5000 : 5 },
  );
});
afterEach(async () => {
  await Promise.all(dispatchers.map((d) => d.stop(500)));
  dispatchers = [];
});
afterAll(async () => receiver?.close());

function start(options: Parameters<typeof startTestDispatcher>[1]): Dispatcher {
  const dispatcher = startTestDispatcher(t.database, options);
  dispatchers.push(dispatcher);
  void dispatcher.start();
  return dispatcher;
}

interface AttemptRow {
  delivery_id: string;
  instance: string;
  started: number;
  finished: number;
}

describe('webhook delivery across instances', () => {
  it('with two dispatchers on one database and 500 events, delivers every pair and never attempts one at the same moment from both', async () => {
    const { programId, events } = programWithConsortium('two');
    await record(t.app, ...events);
    const subscriptions = await Promise.all(
      ['/a', '/b'].map((path) => subscribe(t.app, { url: receiver.url(`${path}-${programId}`), topics: ['seminar.held'], filter: { programId }, maxInFlight: 8 })),
    );
    start({ instance: 'one' });
    start({ instance: 'two' });

    for (let batch = 0; batch < 5; batch++) {
      await record(t.app, ...Array.from({ length: 100 }, (_, i) => seminarHeld(programId, `Seminar ${batch * 100 + i}`)));
    }
    const mine = () => receiver.received.filter((r) => r.path.endsWith(programId) && r.status === 200);
    await receiver.waitFor(() => new Set(mine().map((r) => `${r.path} ${String(r.headers['webhook-id'])}`)).size >= 1000, LONG_TEST_MS - 30_000);

    // The receiver answers before the dispatcher records the outcome: wait for the records.
    const states = async () =>
      (
        await sql<{ state: string; n: number }>`
          select d.state, count(*)::int as n from webhook_delivery d
          where d.subscription_id in (${subscriptions[0]?.id}, ${subscriptions[1]?.id}) group by d.state`.execute(t.database.db)
      ).rows;
    await expect.poll(states, RECORDED_WITHIN).toEqual([{ state: 'succeeded', n: 1000 }]);
    const { rows: attempts } = await sql<AttemptRow>`
      select a.delivery_id, a.instance, extract(epoch from a.started_at) * 1000 as started,
             extract(epoch from a.started_at) * 1000 + a.duration_ms as finished
      from webhook_attempt a join webhook_delivery d on d.id = a.delivery_id
      where d.subscription_id in (${subscriptions[0]?.id}, ${subscriptions[1]?.id})`.execute(t.database.db);
    const byDelivery = new Map<string, AttemptRow[]>();
    for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), a]);
    const overlapping = [...byDelivery.values()].filter((list) =>
      list.some((a) => list.some((b) => a !== b && a.instance !== b.instance && a.started < b.finished && b.started < a.finished)),
    );
    expect(overlapping).toEqual([]);
    expect(receiver.maxConcurrentPerMessage()).toBe(1);
    // Each subscription allows 8 attempts at once, across both instances.
    for (const path of ['/a', '/b']) expect(receiver.maxConcurrentAt(`${path}-${programId}`)).toBeLessThanOrEqual(8);
    expect(Math.max(receiver.maxConcurrentAt(`/a-${programId}`), receiver.maxConcurrentAt(`/b-${programId}`))).toBeGreaterThan(1);
    expect(new Set(attempts.map((a) => a.instance))).toEqual(new Set(['one', 'two']));
  }, LONG_TEST_MS);

  it('attempts again, and delivers, a delivery whose worker died holding its lease', async () => {
    const { programId, events } = programWithConsortium('dies');
    await record(t.app, ...events);
    const { id: subscriptionId } = await subscribe(t.app, { url: receiver.url(`/dies-${programId}`), topics: ['seminar.held'], filter: { programId } });
    await record(t.app, seminarHeld(programId));

    // A worker claims it with a 1 s lease and then dies: it never sends and never records anything.
    const [claimed] = await claimDeliveries(t.database.db, 'dies', 1, 1);
    expect(claimed?.subscriptionId).toBe(subscriptionId);
    start({ instance: 'survivor' });
    await receiver.waitFor((all) => all.some((r) => r.path === `/dies-${programId}`));

    // The receiver sees the request before the survivor records its outcome, so wait for the record.
    await expect.poll(async () => (await call(t.app, 'GET', `/v1/deliveries/${claimed?.id}`)).body, RECORDED_WITHIN).toMatchObject({ state: 'succeeded' });
    const detail = await call(t.app, 'GET', `/v1/deliveries/${claimed?.id}`);
    // The lost attempt is the dead worker's, logged from its claim; the survivor says it reclaimed it.
    expect(detail.body).toMatchObject({
      attempts: [
        { attemptNo: 1, trigger: 'lease_expired', errorKind: 'lease_expired', instance: 'dies', errorDetail: expect.stringContaining('instance survivor put it back') },
        { attemptNo: 2, instance: 'survivor' },
      ],
    });
    const [lost, retried] = z.array(z.object({ startedAt: z.iso.datetime(), durationMs: z.number() })).parse(z.object({ attempts: z.unknown() }).parse(detail.body).attempts);
    expect(Date.parse(lost?.startedAt ?? '') + (lost?.durationMs ?? 0)).toBeLessThanOrEqual(Date.parse(retried?.startedAt ?? '') + 5);
    expect(lost?.durationMs).toBeGreaterThanOrEqual(1000);
  });

  /**
   * A delivery of a subscription of its own (its seminar titled 'First'), claimed by `instance` for
   * `leaseSeconds` (the only one due: earlier tests leave none); with the program and the receiver's path.
   */
  async function claimOneDelivery(tag: string, instance: string, { leaseSeconds = 60, maxInFlight }: { leaseSeconds?: number; maxInFlight?: number } = {}) {
    const { programId, events } = programWithConsortium(tag);
    await record(t.app, ...events);
    const path = `/${tag}-${programId}`;
    await subscribe(t.app, { url: receiver.url(path), topics: ['seminar.held'], filter: { programId }, maxInFlight });
    await record(t.app, seminarHeld(programId, 'First'));
    const [claimed] = await claimDeliveries(t.database.db, instance, 1, leaseSeconds);
    expect(claimed?.url).toBe(receiver.url(path));
    if (claimed === undefined) throw new Error('no delivery claimed');
    return { claimed, programId, path };
  }

  /** Put back due now by a reap, it would be the next test's claim: not due for a day. */
  const parkDelivery = (id: string) => sql`update webhook_delivery set next_attempt_at = now() + interval '1 day' where id = ${id}`.execute(t.database.db);

  it('reaps a lease taken more than the attempt log can count in milliseconds (every instance down for a month), and logs it under its holder', async () => {
    const { claimed } = await claimOneDelivery('month', 'long-gone');
    await sql`update webhook_delivery set leased_at = now() - interval '40 days', lease_until = now() - interval '1 second' where id = ${claimed.id}`.execute(t.database.db);

    // Before the clamp, the reap failed ("integer out of range") on this row, and so reaped nothing, ever.
    expect((await reapExpiredLeases(t.database.db, 'reaper')).length).toBeGreaterThanOrEqual(1);
    const detail = await call(t.app, 'GET', `/v1/deliveries/${claimed.id}`);
    expect(detail.body).toMatchObject({ state: 'pending', attempts: [{ trigger: 'lease_expired', instance: 'long-gone', durationMs: 2147483647 }] });
    await parkDelivery(claimed.id);
  });

  it("logs a lost attempt claimed by the previous release (which names no holder) under the reclaiming instance, not under an earlier claim's holder", async () => {
    // This release claims, and its attempt fails and is put back; the previous release then claims it
    // again, as it did (a new lease, the holder's columns untouched), and dies.
    const { claimed } = await claimOneDelivery('upgrade', 'this-release');
    await sql`update webhook_delivery set state = 'pending', lease_id = null, lease_until = null where id = ${claimed.id}`.execute(t.database.db);
    await sql`update webhook_delivery set state = 'in_flight', lease_id = gen_random_uuid(), lease_until = now() - interval '1 second' where id = ${claimed.id}`.execute(t.database.db);

    expect((await reapExpiredLeases(t.database.db, 'reaper')).length).toBeGreaterThanOrEqual(1);
    const detail = await call(t.app, 'GET', `/v1/deliveries/${claimed.id}`);
    expect(detail.body).toMatchObject({ attempts: [{ trigger: 'lease_expired', instance: 'reaper', durationMs: 0 }] });
    await parkDelivery(claimed.id);
  });

  it("puts a delivery whose holder died back at its place in its subscription's queue, before those due since, and says so in the log and the metrics (probe of webhook leases)", async () => {
    // A worker claims it with a 1 s lease and dies; two more fall due after the claim.
    const { programId, path } = await claimOneDelivery('order', 'dies', { leaseSeconds: 1, maxInFlight: 1 });
    await record(t.app, seminarHeld(programId, 'Second'));
    await record(t.app, seminarHeld(programId, 'Third'));
    const said: { message: string; details: object }[] = [];
    let expired = 0;
    start({
      instance: 'survivor',
      logger: { info: () => {}, error: () => {}, warn: (details, message) => said.push({ details, message }) },
      onLeasesExpired: (deliveries) => (expired += deliveries),
    });

    await receiver.waitFor((all) => all.filter((r) => r.path === path).length === 3);

    // One attempt at a time: the one put back goes first, as it was due first.
    const titles = receiver.received.filter((r) => r.path === path).map((r) => z.object({ data: z.object({ data: z.object({ title: z.string() }) }) }).parse(JSON.parse(r.body)).data.data.title);
    expect(titles).toEqual(['First', 'Second', 'Third']);
    expect(said).toContainEqual({ details: { deliveries: 1, heldBy: ['dies'] }, message: expect.stringContaining('put back in the queue') });
    expect(expired).toBe(1);
  });

  it('puts a delivery whose lease ran out twice behind what is due, rather than first in line for ever (review of the reaper)', async () => {
    const { claimed, programId, path } = await claimOneDelivery('twice', 'dies', { leaseSeconds: 1, maxInFlight: 1 });
    await record(t.app, seminarHeld(programId, 'Second'));
    // Its first lease ran out: back at its place. Claimed again, and that lease runs out too.
    await sql`update webhook_delivery set lease_until = now() - interval '1 second' where id = ${claimed.id}`.execute(t.database.db);
    expect(await reapExpiredLeases(t.database.db, 'reaper')).toEqual(['dies']);
    const [again] = await claimDeliveries(t.database.db, 'dies-again', 1, 1);
    expect(again?.id).toBe(claimed.id);
    await sql`update webhook_delivery set lease_until = now() - interval '1 second' where id = ${claimed.id}`.execute(t.database.db);
    expect(await reapExpiredLeases(t.database.db, 'reaper')).toEqual(['dies-again']);

    // Now behind the second, which was due before it came back.
    const [next] = await claimDeliveries(t.database.db, 'next', 1, 60);
    expect(next?.id).not.toBe(claimed.id);
    expect(next?.url).toBe(receiver.url(path));
    for (const id of [claimed.id, next?.id]) await parkDelivery(id ?? '');
  });

  it('says a delivery whose subscription was deleted during its attempt is gone, not that its lease was lost (probe of webhook leases)', async () => {
    const { programId, events } = programWithConsortium('deleted');
    await record(t.app, ...events);
    const path = `/slow-deleted-${programId}`;
    const { id } = await subscribe(t.app, { url: receiver.url(path), topics: ['seminar.held'], filter: { programId } });
    const said: { level: string; message: string }[] = [];
    const log = (level: string) => (_details: object, message: string) => said.push({ level, message });
    // An attempt may take 8 s here, so that the receiver holds it 5 s.
    start({ instance: 'deleting', totalTimeoutMs: 8000, logger: { info: log('info'), warn: log('warn'), error: log('error') } });
    await record(t.app, seminarHeld(programId));
    // While the receiver holds the attempt (5 s), the subscription is deleted.
    await expect.poll(() => receiver.started.includes(path), { timeout: 10_000 }).toBe(true);
    expect((await call(t.app, 'DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);

    await expect.poll(() => said.map((s) => s.message), { timeout: 10_000 }).toContain('webhook outcome not recorded: its subscription was deleted during the attempt');
    expect(said.filter((s) => s.level !== 'info')).toEqual([]);
  });

  it('does not let an endpoint that always times out delay deliveries to a healthy one', async () => {
    const { programId, events } = programWithConsortium('slow');
    await record(t.app, ...events);
    await subscribe(t.app, { url: receiver.url('/hang'), topics: ['seminar.held'], filter: { programId } });
    await subscribe(t.app, { url: receiver.url(`/healthy-${programId}`), topics: ['seminar.held'], filter: { programId } });
    // Fewer slots than deliveries: without a per-endpoint cap the hanging endpoint would fill them all,
    // and the healthy one would wait for their attempts to time out. The timeout is long, so that a
    // loaded machine's slowness cannot pass for that wait; the test does not wait for it.
    // A lease at least the longest attempt and 15 s, as src/config.ts makes every lease.
    start({ concurrency: 8, totalTimeoutMs: HANG_TIMEOUT_MS, leaseSeconds: HANG_TIMEOUT_MS / 1000 + 15 });

    const recordedAt = Date.now();
    await record(t.app, ...Array.from({ length: 20 }, (_, i) => seminarHeld(programId, `Seminar ${i}`)));
    await receiver.waitFor((all) => all.filter((r) => r.path === `/healthy-${programId}`).length >= 20, 2 * HANG_TIMEOUT_MS);

    const healthy = receiver.received.filter((r) => r.path === `/healthy-${programId}`);
    const lastArrival = Math.max(...healthy.map((r) => r.receivedAt));
    // All 20 arrived before the first attempt at the hanging endpoint had even timed out.
    expect(lastArrival - recordedAt).toBeLessThan(HANG_TIMEOUT_MS);
  });
});
