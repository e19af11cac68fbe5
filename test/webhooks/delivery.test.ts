import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Dispatcher } from '../../src/webhooks/dispatcher.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, record } from '../support/http.js';
import { MessageShape, StatusChangeShape, transitionOf } from '../support/notification-message.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

// How long a dispatcher may take to record an outcome the receiver has already answered, on a loaded machine.
const RECORDED_WITHIN = { timeout: 10_000 };

let receiver: WebhookReceiver;
let dispatchers: Dispatcher[] = [];
/** The receiver answers by path: /ok 200, /flaky 500 twice then 200, /gone 410, /busy 503 + Retry-After once. */
beforeAll(async () => {
  receiver = await startWebhookReceiver(({ path, nth }) => {
    if (path === '/flaky') return { status: nth <= 2 ? 500 : 200, body: nth <= 2 ? 'not yet' : 'ok' };
    if (path === '/gone') return { status: 410 };
    if (path === '/busy') return nth === 1 ? { status: 503, headers: { 'retry-after': '3' } } : { status: 204 };
    if (path === '/slow-ok') return { status: 200, delayMs: 5 };
    return { status: 200 };
  });
});
afterEach(async () => {
  await Promise.all(dispatchers.map((d) => d.stop(1000)));
  dispatchers = [];
});
afterAll(async () => receiver?.close());

function run(...options: Parameters<typeof startTestDispatcher>[1][]): void {
  for (const o of options.length === 0 ? [{}] : options) {
    const dispatcher = startTestDispatcher(t.database, o);
    dispatchers.push(dispatcher);
    void dispatcher.start();
  }
}

const messageOf = (r: ReceivedWebhook) => MessageShape.parse(JSON.parse(r.body));
const headersOf = (r: ReceivedWebhook) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});
const at = (path: string) => (r: ReceivedWebhook) => r.path === path;

async function notificationsOf(programId: string) {
  const { rows } = await sql<{ id: string; topic: string }>`
    select id, topic from notification where program_id = ${programId} order by position`.execute(t.database.db);
  return rows;
}

describe('webhook delivery', () => {
  it('delivers every event and every status change, signed so that standardwebhooks verifies each (incl. a retraction and a late backfill)', async () => {
    const fixture = programWithConsortium('wh');
    const path = `/all-${fixture.programId}`;
    const { secret } = await subscribe(t.app, { url: receiver.url(path), topics: ['*'], filter: { programId: fixture.programId } });
    run();
    const on = { programId: fixture.programId, consortiumId: fixture.consortiumId, milestone: 'defense-pilot' };

    const defined = await record(t.app, ...fixture.events);
    const [started] = await record(t.app, { type: 'pilot.started', occurredAt: '2026-06', data: on });
    // Late backfill: recorded now, but it happened before the start, and a start never undoes an end.
    const [completed] = await record(t.app, { type: 'pilot.completed', occurredAt: '2026-05', data: on });
    const [retraction] = await record(t.app, { type: 'event.retracted', occurredAt: '2026-07', data: { eventId: completed?.id, reason: 'misdated' } });
    const expected = await notificationsOf(fixture.programId);
    await receiver.waitFor((all) => all.filter(at(path)).length >= expected.length);

    const got = receiver.received.filter(at(path));
    expect(got).toHaveLength(expected.length);
    for (const r of got) expect(() => new Webhook(secret).verify(r.body, headersOf(r))).not.toThrow();
    expect(new Set(got.map((r) => messageOf(r).id))).toEqual(new Set(expected.map((n) => `msg_${n.id.replaceAll('-', '')}`)));
    expect(got.every((r) => r.headers['webhook-id'] === messageOf(r).id)).toBe(true);
    const changes = got.map(messageOf).filter((m) => m.type === 'milestone.status_changed').map((m) => transitionOf(StatusChangeShape.parse(m.data)));
    expect(changes).toEqual(
      expect.arrayContaining([
        { programId: fixture.programId, milestone: 'defense-pilot', consortiumId: fixture.consortiumId, from: 'planned', to: 'in_progress', causedBy: started?.id },
        { programId: fixture.programId, milestone: 'defense-pilot', consortiumId: fixture.consortiumId, from: 'in_progress', to: 'achieved', causedBy: completed?.id },
        { programId: fixture.programId, milestone: 'defense-pilot', consortiumId: fixture.consortiumId, from: 'achieved', to: 'in_progress', causedBy: retraction?.id },
      ]),
    );
    expect(changes).toHaveLength(3);
    // Every event recorded about the program, as the appends answered them (not as the service's own
    // notification table lists them): a retraction is about its target's program.
    const recorded = [...defined, started, completed, retraction].filter((e) => e !== undefined);
    const aboutProgram = recorded.filter((e) => e.type === 'event.retracted' || e.data.programId === fixture.programId);
    const delivered = got.map(messageOf).filter((m) => m.type !== 'milestone.status_changed').map((m) => z.object({ id: z.string() }).parse(m.data).id);
    expect(aboutProgram.length).toBeGreaterThanOrEqual(5);
    expect(new Set(delivered)).toEqual(new Set(aboutProgram.map((e) => e.id)));
    const pilotStarted = got.map(messageOf).find((m) => m.type === 'pilot.started');
    expect(pilotStarted?.data).toMatchObject({ id: started?.id, type: 'pilot.started', data: on });
  });

  it('retries a receiver that answers 500 until it answers 200: same webhook-id, fresh timestamp and signature, every try in the attempt log', async () => {
    const { programId, events } = programWithConsortium('flaky');
    const { id: subscriptionId, secret } = await subscribe(t.app, { url: receiver.url('/flaky'), topics: ['seminar.held'], filter: { programId } });
    await record(t.app, ...events);
    run();

    const [seminar] = await record(t.app, seminarHeld(programId));
    await receiver.waitFor((all) => all.filter(at('/flaky')).length >= 3);

    const tries = receiver.received.filter(at('/flaky'));
    expect(tries.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(tries.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const stamps = tries.map((r) => Number(r.headers['webhook-timestamp']));
    expect(stamps[1]).toBeGreaterThan(stamps[0] ?? Infinity);
    expect(stamps[2]).toBeGreaterThan(stamps[1] ?? Infinity);
    for (const r of tries) expect(() => new Webhook(secret).verify(r.body, headersOf(r))).not.toThrow();
    const last = tries.at(-1);
    if (last === undefined) throw new Error('nothing received');
    expect(messageOf(last).data).toMatchObject({ id: seminar?.id });
    const list = await call(t.app, 'GET', `/v1/subscriptions/${subscriptionId}/deliveries`);
    const deliveryId = z.object({ deliveries: z.array(z.object({ id: z.uuid(), state: z.string() })) }).parse(list.body).deliveries[0]?.id;
    await expect
      .poll(async () => z.object({ state: z.string() }).parse((await call(t.app, 'GET', `/v1/deliveries/${deliveryId}`)).body).state, RECORDED_WITHIN)
      .toBe('succeeded');
    const detail = (await call(t.app, 'GET', `/v1/deliveries/${deliveryId}`)).body;
    expect(detail).toMatchObject({
      state: 'succeeded',
      attemptCount: 3,
      attempts: [
        { attemptNo: 1, responseStatus: 500, errorKind: 'http', responseBody: 'not yet', trigger: 'scheduled' },
        { attemptNo: 2, responseStatus: 500, errorKind: 'http' },
        { attemptNo: 3, responseStatus: 200, errorKind: null },
      ],
    });
  });

  it('honours Retry-After, and disables a subscription whose endpoint answers 410 Gone', async () => {
    const { programId, events } = programWithConsortium('codes');
    const busy = await subscribe(t.app, { url: receiver.url('/busy'), topics: ['seminar.held'], filter: { programId } });
    const gone = await subscribe(t.app, { url: receiver.url('/gone'), topics: ['seminar.held'], filter: { programId } });
    await record(t.app, ...events);
    run();

    await record(t.app, seminarHeld(programId));
    await receiver.waitFor((all) => all.filter(at('/busy')).length >= 2 && all.some(at('/gone')));

    const [first, second] = receiver.received.filter(at('/busy'));
    // The schedule says 1 s (± 20%); the receiver asked for 3 s.
    expect((second?.receivedAt ?? 0) - (first?.answeredAt ?? Infinity)).toBeGreaterThanOrEqual(2900);
    await expect
      .poll(async () => (await call(t.app, 'GET', `/v1/subscriptions/${gone.id}`)).body, RECORDED_WITHIN)
      .toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    expect((await call(t.app, 'GET', `/v1/subscriptions/${busy.id}`)).body).toMatchObject({ status: 'active' });
  });

  it('signs with both the old and the new secret during a rotation overlap, and with the new one alone after', async () => {
    const { programId, events } = programWithConsortium('rotate');
    const path = `/rotate-${programId}`;
    const { id, secret: oldSecret } = await subscribe(t.app, { url: receiver.url(path), topics: ['seminar.held'], filter: { programId } });
    await record(t.app, ...events);
    run();

    const rotated = await call(t.app, 'POST', `/v1/subscriptions/${id}/rotate-secret`, { overlapSeconds: 3600 });
    const newSecret = z.object({ secret: z.string() }).parse(rotated.body).secret;
    await record(t.app, seminarHeld(programId, 'during the overlap'));
    await receiver.waitFor((all) => all.filter(at(path)).length >= 1);
    const again = await call(t.app, 'POST', `/v1/subscriptions/${id}/rotate-secret`, { overlapSeconds: 0 });
    const latestSecret = z.object({ secret: z.string() }).parse(again.body).secret;
    await record(t.app, seminarHeld(programId, 'after the overlap'));
    await receiver.waitFor((all) => all.filter(at(path)).length >= 2);

    const [during, after] = receiver.received.filter(at(path));
    if (during === undefined || after === undefined) throw new Error('deliveries missing');
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(during.body, headersOf(during))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, headersOf(during))).not.toThrow();
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(latestSecret).verify(after.body, headersOf(after))).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.body, headersOf(after))).toThrow();
    expect(() => new Webhook(newSecret).verify(after.body, headersOf(after))).toThrow();
  });
});
