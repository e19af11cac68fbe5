import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../../src/domain/event-catalogue.js';
import { STATUS_CHANGED, TEST_PING } from '../../src/domain/notification.js';
import type { Dispatcher } from '../../src/webhooks/dispatcher.js';
import { programWithConsortium } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, record } from '../support/http.js';
import { committedResponses } from '../support/openapi-responses.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, startTestDispatcher, subscribe } from '../support/test-dispatcher.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

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

const Message = z.looseObject({ type: z.string(), data: z.looseObject({ schemaVersion: z.int().optional() }) });

/** Which of the document's webhooks a message is, and for a status change its data's version. */
const kindOf = (body: string): string => {
  const { type, data } = Message.parse(JSON.parse(body));
  if (type === STATUS_CHANGED) return `${type} v${data.schemaVersion ?? '?'}`;
  return type === TEST_PING ? type : 'event';
};

const ALL_KINDS = [...Array<string>(5).fill('event'), `${STATUS_CHANGED} v1`, `${STATUS_CHANGED} v2`, TEST_PING].sort();

/** Every kind of message, sent for real to one subscription: the bodies as the receiver got them. */
async function oneOfEachKind(tag: string): Promise<{ programId: string; bodies: ReceivedWebhook[] }> {
  const { programId, consortiumId, events } = programWithConsortium(tag);
  const path = `/all-${programId}`;
  const { id } = await subscribe(t.app, { url: receiver.url(path), topics: ['*'], filter: { programId } });
  dispatcher = startTestDispatcher(t.database, {});
  void dispatcher.start();
  const [started] = await record(t.app, ...events, { type: 'pilot.started', occurredAt: '2026-05', data: { programId, consortiumId, milestone: 'defense-pilot' } }).then((all) => all.slice(-1));
  expect((await call(t.app, 'POST', `/v1/subscriptions/${id}/test`)).status).toBe(202);
  // A status change an earlier release stored: ids only, no version (sent marked as version 1).
  await sql`
    insert into notification (id, topic, program_id, consortium_id, data)
    values (uuid_v7(), ${STATUS_CHANGED}, ${programId}, ${consortiumId},
            ${JSON.stringify({ programId, milestone: 'defense-pilot', consortiumId, from: 'planned', to: 'in_progress', causedBy: started?.id })}::jsonb)`.execute(t.database.db);
  // The program's four definitions (the consortium's registration names no program), the pilot, its status change, the ping and the stored change.
  await receiver.waitFor((all) => all.filter((r) => r.path === path).length >= ALL_KINDS.length);
  return { programId, bodies: receiver.received.filter((r) => r.path === path) };
}

describe("the OpenAPI document's webhooks", () => {
  it('describe every message a subscriber gets: each event, a status change (and one an earlier release stored, version 1) and a ping, with their signed headers', async () => {
    const { bodies } = await oneOfEachKind('kinds');
    expect(bodies.map((r) => kindOf(r.body)).sort()).toEqual(ALL_KINDS);
    for (const { headers, body } of bodies) expect(committedResponses().problemsWithWebhook(headers, body)).toEqual([]);
    expect(receiver.nonconforming).toEqual([]);
  });

  it('are the messages of the feed too: every frame of a program\'s feed matches the webhook its type names', async () => {
    const { programId } = await oneOfEachKind('feed');
    await waitForFeedHorizon(t.database.db);
    const feed = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`);
    expect(feed.status).toBe(200);
    const frames = parseSse(String(feed.body)).messages;
    // The ping goes to its subscription alone, never to the feed.
    expect(frames.map((frame) => kindOf(frame.data)).sort()).toEqual(ALL_KINDS.filter((kind) => kind !== TEST_PING));
    for (const frame of frames) {
      const { id } = z.object({ id: z.string() }).parse(JSON.parse(frame.data));
      expect(committedResponses().problemsWithWebhook({ 'webhook-id': id, 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' }, frame.data)).toEqual([]);
    }
  });

  it('refuse a message that strays from them: a missing member, one more, a status or an event type that does not exist, a missing signature', async () => {
    const { bodies } = await oneOfEachKind('strays');
    const change = bodies.find((r) => kindOf(r.body) === `${STATUS_CHANGED} v2`);
    const event = bodies.find((r) => kindOf(r.body) === 'event');
    if (change === undefined || event === undefined) throw new Error('no status change or event received');
    const Body = z.looseObject({ data: z.record(z.string(), z.unknown()) });
    const changed = (edit: (message: z.infer<typeof Body>) => unknown, from = change) => JSON.stringify(edit(Body.parse(JSON.parse(from.body))));
    const strays = [
      changed(({ data: { causedBy: _, ...data }, ...message }) => ({ ...message, data })),
      changed((message) => ({ ...message, data: { ...message.data, weather: 'fine' } })),
      changed((message) => ({ ...message, data: { ...message.data, to: 'done' } })),
      changed((message) => ({ ...message, type: 'pilot.paused' }), event),
    ];
    for (const body of strays) expect(committedResponses().problemsWithWebhook(change.headers, body), body).not.toEqual([]);
    const { 'webhook-signature': _, ...unsigned } = change.headers;
    expect(committedResponses().problemsWithWebhook(unsigned, change.body)).toEqual(['webhook milestone.status_changed: header webhook-signature is required and was not sent']);
    expect(committedResponses().problemsWithWebhook({ ...change.headers, 'webhook-id': 'msg_other' }, change.body)).toEqual([
      expect.stringContaining('webhook milestone.status_changed: the webhook-id header msg_other is not the body\'s id'),
    ]);
    expect(committedResponses().problemsWithWebhook(change.headers, changed((message) => ({ ...message, type: 'toString' }), event))).not.toEqual([]);
    // Every event type the catalogue has is one the document's event message names.
    const schema = z.object({ properties: z.object({ type: z.object({ enum: z.array(z.string()) }) }) });
    const document = z.object({ components: z.object({ schemas: z.object({ EventMessage: schema }) }) }).parse(await call(t.app, 'GET', '/openapi.json').then((r) => r.body));
    expect(document.components.schemas.EventMessage.properties.type.enum).toEqual([...EVENT_TYPE_NAMES]);
  });
});
