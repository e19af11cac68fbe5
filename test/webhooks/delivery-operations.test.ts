import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DatabaseUnavailableError, StatementTimeoutError, TransactionConflictError } from '../../src/domain/errors.js';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import type { Dispatcher } from '../../src/webhooks/dispatcher.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, record } from '../support/http.js';
import { onEachStatement } from '../support/statement-hook.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

// How long an attempt may take to be made and recorded on a loaded machine.
const WITHIN = { timeout: 10_000 };
// A retry a minute away: the test sees one attempt alone, and leaves no retry due in a later test.
const NO_RETRY_SOON = { retry: { schedule: [60], maxRetryAfterSeconds: 1 } };

let receiver: WebhookReceiver;
let dispatchers: Dispatcher[] = [];
beforeAll(async () => {
  receiver = await startWebhookReceiver(({ path }) => {
    if (path.startsWith('/redirect')) return { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } };
    if (path.startsWith('/down')) return { status: 503 };
    if (path.startsWith('/hang')) return { status: 200, delayMs: Infinity };
    return { status: 200 };
  });
});
afterEach(async () => {
  await Promise.all(dispatchers.map((d) => d.stop(500)));
  dispatchers = [];
});
afterAll(async () => receiver?.close());

function start(options: Parameters<typeof startTestDispatcher>[1] = {}): Dispatcher {
  const dispatcher = startTestDispatcher(t.database, options);
  dispatchers.push(dispatcher);
  void dispatcher.start();
  return dispatcher;
}

const DeliveryList = z.object({ deliveries: z.array(z.object({ id: z.uuid(), state: z.string(), messageId: z.string() })) });
const Detail = z.object({
  state: z.string(),
  attempts: z.array(z.object({ attemptNo: z.int(), trigger: z.string(), responseStatus: z.int().nullable(), errorKind: z.string().nullable(), errorDetail: z.string().nullable() })),
});

async function onlyDelivery(subscriptionId: string) {
  const list = DeliveryList.parse((await call(t.app, 'GET', `/v1/subscriptions/${subscriptionId}/deliveries`)).body);
  const [delivery] = list.deliveries;
  if (delivery === undefined || list.deliveries.length !== 1) throw new Error(`expected one delivery, got ${list.deliveries.length}`);
  return delivery;
}

/** Whether a request to `path` has started at the receiver (hanging ones are never in `received`). */
const receiverSaw = (path: string) => receiver.started.some((p) => p === path);

/** A dispatcher's logger that keeps what it is told, for the tests of what the dispatcher says. */
function capturedLog() {
  const lines: { level: string; message: string; details: object }[] = [];
  const said = (level: string) => (details: object, message: string) => lines.push({ level, message, details });
  return { lines, logger: { info: said('info'), warn: said('warn'), error: said('error') } };
}

const detailOf = async (deliveryId: string) => Detail.parse((await call(t.app, 'GET', `/v1/deliveries/${deliveryId}`)).body);

async function scenario(tag: string) {
  const { programId, events } = programWithConsortium(tag);
  await record(t.app, ...events);
  return programId;
}

/** A delivery to an endpoint that is down, failed once its one retry (1 s later) failed too. */
async function failedDelivery(tag: string) {
  const programId = await scenario(tag);
  const down = await subscribe(t.app, { url: receiver.url(`/down-${programId}`), topics: ['seminar.held'], filter: { programId } });
  start({ retry: { schedule: [1], maxRetryAfterSeconds: 1 } });
  await record(t.app, seminarHeld(programId));
  const delivery = await onlyDelivery(down.id);
  await expect.poll(async () => (await detailOf(delivery.id)).state, { timeout: 10_000 }).toBe('failed');
  return { programId, down, delivery };
}

describe('webhook delivery, as operated', () => {
  it('checks the target again at delivery: a loopback endpoint registered under an allow-list is blocked once the list no longer names it', async () => {
    const programId = await scenario('ssrf');
    const { id } = await subscribe(t.app, { url: receiver.url(`/ssrf-${programId}`), topics: ['seminar.held'], filter: { programId } });
    start({ ...NO_RETRY_SOON, rules: { addresses: parseAllowedCidrs(''), allowHttp: true } });

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await expect.poll(async () => (await detailOf(delivery.id)).attempts.length, WITHIN).toBeGreaterThan(0);

    expect((await detailOf(delivery.id)).attempts[0]).toMatchObject({ errorKind: 'blocked_target', responseStatus: null });
    expect(receiver.received.filter((r) => r.path === `/ssrf-${programId}`)).toEqual([]);
  });

  it('does not follow a redirect to an internal address: the 302 is logged as a failed attempt', async () => {
    const programId = await scenario('redirect');
    const { id } = await subscribe(t.app, { url: receiver.url(`/redirect-${programId}`), topics: ['seminar.held'], filter: { programId } });
    start(NO_RETRY_SOON);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await expect.poll(async () => (await detailOf(delivery.id)).attempts.length, WITHIN).toBeGreaterThan(0);

    expect((await detailOf(delivery.id)).attempts[0]).toMatchObject({ responseStatus: 302, errorKind: 'http' });
    expect(receiver.received.filter((r) => r.path === `/redirect-${programId}`)).toHaveLength(1);
  });

  it('gives up after the last scheduled retry, and recovers the failed delivery on request, with the same webhook-id', async () => {
    const { programId, down, delivery } = await failedDelivery('recover');
    const since = new Date(Date.now() - 60_000).toISOString();
    await call(t.app, 'PATCH', `/v1/subscriptions/${down.id}`, { url: receiver.url(`/up-${programId}`) });
    const recovered = await call(t.app, 'POST', `/v1/subscriptions/${down.id}/recover`, { since });
    await expect.poll(async () => (await detailOf(delivery.id)).state, { timeout: 10_000 }).toBe('succeeded');

    expect(recovered).toMatchObject({ status: 202, body: { requeued: 1 } });
    expect((await detailOf(delivery.id)).attempts.map((a) => [a.attemptNo, a.trigger, a.responseStatus])).toEqual([
      [1, 'scheduled', 503],
      [2, 'scheduled', 503],
      [3, 'recover', 200],
    ]);
    const arrived = receiver.received.filter((r) => r.path === `/up-${programId}`);
    expect(arrived.map((r) => r.headers['webhook-id'])).toEqual([delivery.messageId]);
  });

  it('recovers by dates in any form the views take: since from the start of its period, until through the end of its own; an until before since is refused', async () => {
    const { down, delivery } = await failedDelivery('recover-dates');
    const created = z.object({ createdAt: z.iso.datetime() }).parse((await call(t.app, 'GET', `/v1/deliveries/${delivery.id}`)).body).createdAt;
    const day = created.slice(0, 10);
    const dayBefore = new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10);
    const recover = (body: object) => call(t.app, 'POST', `/v1/subscriptions/${down.id}/recover`, body);

    const before = await recover({ since: dayBefore.slice(0, 7), until: dayBefore });
    const sameDay = await recover({ since: day, until: day });
    const unreadable = await recover({ since: 'yesterday' });
    const backward = await recover({ since: day, until: dayBefore });

    expect(before).toMatchObject({ status: 202, body: { requeued: 0 } });
    expect(sameDay).toMatchObject({ status: 202, body: { requeued: 1 } });
    expect(unreadable.status).toBe(400);
    expect(unreadable.body).toMatchObject({ errors: [{ pointer: '/since', detail: expect.stringContaining("not a valid date: 'yesterday'; expected 2026, 2026-H1") }] });
    expect(z.object({ errors: z.array(z.unknown()) }).parse(unreadable.body).errors).toHaveLength(1);
    expect(backward.status).toBe(400);
    expect(backward.body).toMatchObject({ errors: [{ pointer: '/until', detail: `until=${dayBefore} ends before since=${day} begins, so the range holds nothing: give the earlier date as since` }] });
  });

  it("pages a delivery's attempt log, oldest first, every attempt once, the last page without a cursor", async () => {
    const { delivery } = await failedDelivery('attempt-pages');
    const Page = Detail.extend({ nextCursor: z.string().optional() });

    const pages: number[][] = [];
    let after = '';
    for (let i = 0; i < 5; i++) {
      const page = Page.parse((await call(t.app, 'GET', `/v1/deliveries/${delivery.id}?limit=1${after}`)).body);
      pages.push(page.attempts.map((a) => a.attemptNo));
      if (page.nextCursor === undefined) break;
      after = `&after=${page.nextCursor}`;
    }
    const forged = await call(t.app, 'GET', `/v1/deliveries/${delivery.id}?after=${Buffer.from('a1:x').toString('base64url')}`);

    expect(pages).toEqual([[1], [2]]);
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ type: '/problems/invalid-cursor' });
  });

  it('retries a recovered delivery on the whole schedule again: recovered while its endpoint is still down, it gets the retries a new delivery gets', async () => {
    const { down, delivery } = await failedDelivery('recover-down');
    const recovered = await call(t.app, 'POST', `/v1/subscriptions/${down.id}/recover`, { since: new Date(Date.now() - 60_000).toISOString() });
    await expect.poll(async () => (await detailOf(delivery.id)).attempts.length, { timeout: 10_000 }).toBe(4);
    await expect.poll(async () => (await detailOf(delivery.id)).state, { timeout: 10_000 }).toBe('failed');

    expect(recovered).toMatchObject({ status: 202, body: { requeued: 1 } });
    expect((await detailOf(delivery.id)).attempts.map((a) => [a.attemptNo, a.trigger, a.responseStatus])).toEqual([
      [1, 'scheduled', 503],
      [2, 'scheduled', 503],
      [3, 'recover', 503],
      [4, 'scheduled', 503],
    ]);
  });

  it('redelivers a delivered message by hand, with the same webhook-id, and says so in the attempt log', async () => {
    const programId = await scenario('again');
    const { id } = await subscribe(t.app, { url: receiver.url(`/again-${programId}`), topics: ['seminar.held'], filter: { programId } });
    start();
    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await expect.poll(async () => (await detailOf(delivery.id)).state, WITHIN).toBe('succeeded');

    const redelivered = await call(t.app, 'POST', `/v1/deliveries/${delivery.id}/redeliver`);
    await expect.poll(async () => (await detailOf(delivery.id)).attempts.length, WITHIN).toBe(2);

    expect(redelivered.status).toBe(202);
    expect((await detailOf(delivery.id)).attempts.map((a) => a.trigger)).toEqual(['scheduled', 'manual']);
    const arrived = receiver.received.filter((r) => r.path === `/again-${programId}`);
    expect(arrived.map((r) => r.headers['webhook-id'])).toEqual([delivery.messageId, delivery.messageId]);
  });

  it('holds deliveries while a subscription is paused and sends them when it resumes', async () => {
    const programId = await scenario('pause');
    const { id } = await subscribe(t.app, { url: receiver.url(`/pause-${programId}`), topics: ['seminar.held'], filter: { programId } });
    await call(t.app, 'PATCH', `/v1/subscriptions/${id}`, { status: 'paused' });
    const dispatcher = startTestDispatcher(t.database);
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    // A round claims whatever is due, an earlier test's retry included: what counts is this delivery.
    await dispatcher.runOnce();
    const whilePaused = await detailOf(delivery.id);
    await call(t.app, 'PATCH', `/v1/subscriptions/${id}`, { status: 'active' });
    await dispatcher.runOnce();
    const afterResume = await detailOf(delivery.id);

    expect(whilePaused).toMatchObject({ state: 'pending', attempts: [] });
    expect(afterResume).toMatchObject({ state: 'succeeded', attempts: [{ attemptNo: 1, responseStatus: 200 }] });
    expect(receiver.received.filter((r) => r.path === `/pause-${programId}`)).toHaveLength(1);
  });

  it('puts claimed deliveries back in the queue, no retry used and their trigger kept, when their messages cannot be read after the claim', async () => {
    const programId = await scenario('unread');
    const { id } = await subscribe(t.app, { url: receiver.url(`/unread-${programId}`), topics: ['seminar.held'], filter: { programId } });
    let failReads = true;
    const db = onEachStatement(t.database.db, (query) => {
      if (failReads && query.sql.includes('from "notification"')) throw new Error('the database went away');
    });
    const dispatcher = startTestDispatcher({ ...t.database, db });
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    // Asked for by hand: the attempt that finally goes out says so too.
    await call(t.app, 'POST', `/v1/deliveries/${delivery.id}/redeliver`);
    await dispatcher.runOnce();
    const afterFailure = await detailOf(delivery.id);
    const { rows } = await sql<{ used: number }>`select attempt_count - schedule_start as used from webhook_delivery where id = ${delivery.id}`.execute(t.database.db);
    failReads = false;
    await sql`update webhook_delivery set next_attempt_at = now() where id = ${delivery.id}`.execute(t.database.db);
    await dispatcher.runOnce();
    const afterRetry = await detailOf(delivery.id);

    // Not left in flight until its lease runs out (then counted as an attempt): back in the queue at once.
    expect(afterFailure).toMatchObject({ state: 'pending', attempts: [{ attemptNo: 1, trigger: 'manual', errorKind: 'internal', responseStatus: null }] });
    expect(rows).toEqual([{ used: 0 }]);
    expect(afterRetry).toMatchObject({ state: 'succeeded', attempts: [{ errorKind: 'internal' }, { attemptNo: 2, trigger: 'manual', responseStatus: 200 }] });
  });

  it("records an attempt's outcome once the database is back, within the lease, rather than leaving the delivery to its lease and sending it again", async () => {
    const programId = await scenario('recordagain');
    const { id } = await subscribe(t.app, { url: receiver.url(`/recordagain-${programId}`), topics: ['seminar.held'], filter: { programId } });
    let failedRecords = 0;
    // Just as the outcome is recorded, the database times the statement out, breaks a conflict, goes away; then takes it.
    const failures = [
      () => new StatementTimeoutError({ cause: new Error('canceling statement due to statement timeout') }),
      () => new TransactionConflictError({ cause: new Error('deadlock detected') }),
      () => new DatabaseUnavailableError(false, { cause: new Error('connection terminated') }),
    ];
    const db = onEachStatement(t.database.db, (query) => {
      const failure = failures[failedRecords];
      if (query.sql.includes('with finished as') && failure !== undefined) {
        failedRecords++;
        throw failure();
      }
    });
    const dispatcher = startTestDispatcher({ ...t.database, db });
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await dispatcher.runOnce();

    expect(failedRecords).toBe(3);
    expect(await detailOf(delivery.id)).toMatchObject({ state: 'succeeded', attempts: [{ attemptNo: 1, responseStatus: 200 }] });
    expect(receiver.received.filter((r) => r.path === `/recordagain-${programId}`)).toHaveLength(1);
  });

  it('puts claimed deliveries back though the outage that failed the read of their messages fails the first tries to put them back too, rather than leaving them to their lease (probe of the day\'s fixes)', async () => {
    const programId = await scenario('putback');
    const { id } = await subscribe(t.app, { url: receiver.url(`/putback-${programId}`), topics: ['seminar.held'], filter: { programId } });
    let failedPutBacks = 0;
    let failReads = true;
    const db = onEachStatement(t.database.db, (query) => {
      if (failReads && query.sql.includes('from "notification"')) throw new DatabaseUnavailableError(false, { cause: new Error('connection terminated') });
      if (query.sql.includes('with finished as') && failedPutBacks < 2) {
        failedPutBacks++;
        throw new DatabaseUnavailableError(false, { cause: new Error('connection terminated') });
      }
    });
    // A lease of a minute: left to it, the delivery would stay in flight, its subscription's place taken, that long.
    const dispatcher = startTestDispatcher({ ...t.database, db }, { leaseSeconds: 60 });
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await dispatcher.runOnce();
    failReads = false;

    expect(failedPutBacks).toBe(2);
    expect(await detailOf(delivery.id)).toMatchObject({ state: 'pending', attempts: [{ attemptNo: 1, errorKind: 'internal', responseStatus: null }] });
  });

  it('puts claimed deliveries back, unsent and no retry used, when reading their messages left too little of the lease for an attempt', async () => {
    const programId = await scenario('slowread');
    const { id } = await subscribe(t.app, { url: receiver.url(`/slowread-${programId}`), topics: ['seminar.held'], filter: { programId } });
    let slowReads = true;
    // A slow database: the read of the messages takes 1.5 s of a 2 s lease, and an attempt may take 1 s.
    const db = onEachStatement(t.database.db, async (query) => {
      if (slowReads && query.sql.includes('from "notification"')) await new Promise((resolve) => setTimeout(resolve, 1500));
    });
    const dispatcher = startTestDispatcher({ ...t.database, db }, { leaseSeconds: 2, totalTimeoutMs: 1000 });
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    const delivery = await onlyDelivery(id);
    await dispatcher.runOnce();
    const afterSlowRead = await detailOf(delivery.id);
    const sentDuringSlowRead = receiver.received.filter((r) => r.path === `/slowread-${programId}`).length;
    const { rows } = await sql<{ used: number }>`select attempt_count - schedule_start as used from webhook_delivery where id = ${delivery.id}`.execute(t.database.db);
    slowReads = false;
    await sql`update webhook_delivery set next_attempt_at = now() where id = ${delivery.id}`.execute(t.database.db);
    await dispatcher.runOnce();

    // Sent then, the attempt could outlive the lease, and another instance would claim and send it again.
    expect(sentDuringSlowRead).toBe(0);
    expect(afterSlowRead).toMatchObject({ state: 'pending', attempts: [{ attemptNo: 1, errorKind: 'internal', errorDetail: expect.stringContaining('lease') }] });
    expect(rows).toEqual([{ used: 0 }]);
    expect(await detailOf(delivery.id)).toMatchObject({ state: 'succeeded', attempts: [{ errorKind: 'internal' }, { attemptNo: 2, responseStatus: 200 }] });
  });

  it('disables a subscription that has failed for longer than allowed, visibly in the API', async () => {
    const programId = await scenario('failing');
    const { id } = await subscribe(t.app, { url: receiver.url(`/down-failing-${programId}`), topics: ['seminar.held'], filter: { programId } });
    // It has been failing for six days already (the limit is five).
    await sql`update subscription set failing_since = now() - interval '6 days' where id = ${id}`.execute(t.database.db);
    const dispatcher = startTestDispatcher(t.database, { disableAfterSeconds: 5 * 24 * 3600 });
    dispatchers.push(dispatcher);

    await record(t.app, seminarHeld(programId));
    await dispatcher.runOnce();

    expect((await call(t.app, 'GET', `/v1/subscriptions/${id}`)).body).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
  });

  it('logs claims failing poll after poll once at first, then with how many failed at most once an interval, and says when claims go through again (until 2026-12-06, an error a poll for as long as the database was away)', async () => {
    let away = true;
    let polls = 0;
    const db = onEachStatement(t.database.db, (query) => {
      if (!away) return;
      if (query.sql.includes('from subscription s')) polls++;
      throw new DatabaseUnavailableError(false, { cause: new Error('connection terminated') });
    });
    const { lines, logger } = capturedLog();
    const claimLines = () => lines.filter((line) => line.message.startsWith('webhook claim'));
    const dispatcher = startTestDispatcher({ ...t.database, db }, { pollMs: 50, claimFailureLogMs: 3_000, logger });
    dispatchers.push(dispatcher);
    await dispatcher.start();

    await expect.poll(() => polls, WITHIN).toBeGreaterThanOrEqual(5);
    expect(claimLines()).toMatchObject([{ level: 'error', details: { failedPolls: 1 } }]);
    await expect.poll(() => claimLines().length, WITHIN).toBe(2);
    const [, second] = claimLines();
    expect(second).toMatchObject({ level: 'error', message: 'webhook claim failed; retrying at every poll' });
    const told = z.object({ failedPolls: z.int() }).parse(second?.details).failedPolls;
    expect(told).toBeGreaterThan(5);

    away = false;
    await expect.poll(() => claimLines().at(-1)?.message, WITHIN).toBe('webhook claims go through again');
    const failed = claimLines().filter((line) => line.level === 'error');
    const toldInAll = failed.reduce((sum, line) => sum + z.object({ failedPolls: z.int() }).parse(line.details).failedPolls, 0);
    expect(claimLines().at(-1)?.details).toMatchObject({ failedPolls: toldInAll });
    expect(toldInAll).toBeGreaterThanOrEqual(polls);
    // One line for each poll before: the run told in at most a few.
    expect(failed.length).toBeLessThanOrEqual(3);
  });

  it('logs claims that fail every other poll at most twice an interval, and their end once they have gone through for an interval (review of the day: a line a failure and a line a success)', async () => {
    let flapping = true;
    let claims = 0;
    let failures = 0;
    const db = onEachStatement(t.database.db, (query) => {
      if (!flapping || !query.sql.includes('from subscription s')) return;
      claims++;
      if (claims % 2 === 0) {
        failures++;
        throw new DatabaseUnavailableError(false, { cause: new Error('connection terminated') });
      }
    });
    const { lines, logger } = capturedLog();
    const claimLines = () => lines.filter((line) => line.message.startsWith('webhook claim'));
    const dispatcher = startTestDispatcher({ ...t.database, db }, { pollMs: 50, claimFailureLogMs: 3_000, logger });
    dispatchers.push(dispatcher);
    await dispatcher.start();

    await expect.poll(() => failures, WITHIN).toBeGreaterThanOrEqual(10);
    flapping = false;
    const flapped = failures;
    expect(claimLines().length).toBeLessThanOrEqual(2);
    await expect.poll(() => claimLines().at(-1)?.message, WITHIN).toBe('webhook claims go through again');

    const told = claimLines().filter((line) => line.level === 'error');
    expect(told.reduce((sum, line) => sum + z.object({ failedPolls: z.int() }).parse(line.details).failedPolls, 0)).toBe(flapped);
    expect(claimLines().at(-1)?.details).toMatchObject({ failedPolls: flapped });
    expect(claimLines().filter((line) => line.level === 'info')).toHaveLength(1);
  });

  it("logs the reads of claimed deliveries' messages failing round after round once at first, then with how many at most once an interval, and says when they go through again, though nothing is left to read (until 2026-12-07, an error a round)", async () => {
    const programId = await scenario('reads');
    const path = `/reads-${programId}`;
    const { id } = await subscribe(t.app, { url: receiver.url(path), topics: ['seminar.held'], filter: { programId } });
    // Pings due one after another, 50 ms apart: round after round claims one and fails to read it.
    await sql`
      insert into notification (topic, data, only_subscription)
      select 'webhook.test', jsonb_build_object('subscriptionId', ${id}::text, 'message', 'ping'), ${id}::uuid from generate_series(1, 40)`.execute(t.database.db);
    await sql`
      update webhook_delivery d set next_attempt_at = now() + (d.notification_position - first.position) * interval '50 milliseconds'
      from (select min(notification_position) as position from webhook_delivery where subscription_id = ${id}::uuid) first
      where d.subscription_id = ${id}::uuid`.execute(t.database.db);
    let failing = true;
    let failedReads = 0;
    const db = onEachStatement(t.database.db, (query) => {
      if (!failing || !query.sql.includes('from "notification"')) return;
      failedReads++;
      throw new DatabaseUnavailableError(false, { cause: new Error('connection terminated') });
    });
    const { lines, logger } = capturedLog();
    const readLines = () => lines.filter((line) => line.message.startsWith('webhook messages'));
    // An interval longer than the 5 s a delivery put back waits: the reads that end the outage come
    // sooner than it, and the run ends with the rounds that find nothing to read after it.
    // One delivery a round, so that the deliveries put back are the failed rounds, however late a round runs.
    const dispatcher = startTestDispatcher(
      { ...t.database, db },
      { pollMs: 50, concurrency: 1, claimFailureLogMs: 8_000, logger },
    );
    dispatchers.push(dispatcher);
    await dispatcher.start();

    await expect.poll(() => failedReads, WITHIN).toBeGreaterThanOrEqual(10);
    failing = false;
    const failed = failedReads;
    expect(readLines().length).toBeLessThanOrEqual(2);
    expect(readLines()[0]).toMatchObject({
      level: 'error',
      message: 'webhook messages could not be read; the claimed deliveries go back to the queue',
      details: { failedReads: 1, deliveriesPutBack: 1 },
    });
    // The pings put back are sent once their messages can be read.
    await receiver.waitFor((all) => all.filter((r) => r.path === path).length === 40, 30_000);
    await expect.poll(() => readLines().at(-1)?.message, { timeout: 20_000 }).toBe('webhook messages are read again');

    const told = readLines().filter((line) => line.level === 'error');
    const Told = z.object({ failedReads: z.int(), deliveriesPutBack: z.int() });
    expect(told.reduce((sum, line) => sum + Told.parse(line.details).failedReads, 0)).toBe(failed);
    expect(told.reduce((sum, line) => sum + Told.parse(line.details).deliveriesPutBack, 0)).toBe(failed);
    expect(readLines().at(-1)?.details).toMatchObject({ failedReads: failed });
    // The claims themselves went through: no claim failure told.
    expect(lines.filter((line) => line.message.startsWith('webhook claim'))).toEqual([]);
  }, 90_000);

  it('on stop, lets an attempt in flight run out its grace, then aborts it and puts the delivery back in the queue', async () => {
    const programId = await scenario('stop');
    const { id } = await subscribe(t.app, { url: receiver.url(`/hang-${programId}`), topics: ['seminar.held'], filter: { programId } });
    const dispatcher = startTestDispatcher(t.database, { totalTimeoutMs: 30_000, leaseSeconds: 45 });
    void dispatcher.start();
    await record(t.app, seminarHeld(programId));
    await expect.poll(() => receiverSaw(`/hang-${programId}`), WITHIN).toBe(true);

    const stopping = Date.now();
    await dispatcher.stop(300);
    const stoppedAfter = Date.now() - stopping;

    expect(stoppedAfter).toBeGreaterThanOrEqual(250);
    const delivery = await onlyDelivery(id);
    expect(delivery.state).toBe('pending');
    expect((await detailOf(delivery.id)).attempts).toMatchObject([{ attemptNo: 1, errorKind: 'aborted' }]);
    const { rows } = await sql<{ lease_id: string | null }>`select lease_id from webhook_delivery where id = ${delivery.id}`.execute(t.database.db);
    expect(rows).toEqual([{ lease_id: null }]);
    // The attempt cut short says nothing of the endpoint, and uses up no retry: sent elsewhere, to an
    // endpoint that is down, the delivery is tried and retried as if it had never been attempted.
    expect((await call(t.app, 'GET', `/v1/subscriptions/${id}`)).body).toMatchObject({ failingSince: null });
    await call(t.app, 'PATCH', `/v1/subscriptions/${id}`, { url: receiver.url(`/down-stop-${programId}`) });
    start({ retry: { schedule: [1], maxRetryAfterSeconds: 1 } });
    await expect.poll(async () => (await detailOf(delivery.id)).state, { timeout: 10_000 }).toBe('failed');
    expect((await detailOf(delivery.id)).attempts.map((a) => [a.attemptNo, a.errorKind, a.responseStatus])).toEqual([
      [1, 'aborted', null],
      [2, 'http', 503],
      [3, 'http', 503],
    ]);
  });
});
