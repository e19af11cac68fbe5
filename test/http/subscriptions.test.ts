import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { WebhookSettings } from '../../src/app.js';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import type { ResolveHost } from '../../src/services/webhook-target-check.js';
import type { Db } from '../../src/store/database.js';
import { findSigningSecrets } from '../../src/store/subscriptions.js';
import { call, problemOf, type JsonResponse } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/** Test DNS: one public host, one that points inside, and nothing else resolves. */
const resolve: ResolveHost = async (host) =>
  host === 'hooks.example' ? [{ address: '93.184.216.34', family: 4 }] : host === 'internal.example' ? [{ address: '10.0.0.5', family: 4 }] : [];

const webhooks = (allowedCidrs: string): WebhookSettings => ({
  rules: { addresses: parseAllowedCidrs(allowedCidrs), allowHttp: false },
  resolve,
  defaultMaxInFlight: 4,
});

const t = useTestApp({ webhooks: webhooks('') });

const Subscription = z.strictObject({
  id: z.uuid(),
  url: z.string(),
  topics: z.array(z.string()),
  filter: z.strictObject({ programId: z.string().optional(), consortiumId: z.string().optional() }),
  description: z.string().nullable(),
  status: z.enum(['active', 'paused', 'disabled']),
  disabledReason: z.string().nullable(),
  failingSince: z.iso.datetime().nullable(),
  maxInFlight: z.int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
const Created = Subscription.extend({ secret: z.string() });
const Secrets = z.object({ secrets: z.array(z.object({ secret: z.string(), createdAt: z.iso.datetime(), expiresAt: z.iso.datetime().nullable() })) });
const Rotated = z.object({ secret: z.string(), previousSecretsExpireAt: z.iso.datetime().nullable() });

const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;
const HOOK = { url: 'https://hooks.example/ledger', topics: ['pilot.*'] };

async function subscribe(app = t.app, body: unknown = HOOK) {
  const response = await call(app, 'POST', '/v1/subscriptions', body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return Created.parse(response.body);
}

const patch = (id: string, body: unknown) => call(t.app, 'PATCH', `/v1/subscriptions/${id}`, body);
const secretsOf = async (id: string) => Secrets.parse((await call(t.app, 'GET', `/v1/subscriptions/${id}/secret`)).body).secrets;

async function countRows(db: Db): Promise<{ subscriptions: number; secrets: number }> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('subscription').select(eb.fn.countAll<string>().as('n')).as('subscriptions'),
      eb.selectFrom('subscription_secret').select(eb.fn.countAll<string>().as('n')).as('secrets'),
    ])
    .executeTakeFirstOrThrow();
  return { subscriptions: Number(row.subscriptions), secrets: Number(row.secrets) };
}

/** A secret Standard Webhooks accepts, shown by signing a message and verifying it with the same key. */
function expectSigningSecret(secret: string): void {
  expect(secret).toMatch(WHSEC);
  const webhook = new Webhook(secret);
  const sentAt = new Date();
  const body = '{"type":"webhook.test"}';
  const signature = webhook.sign('msg_1', sentAt, body);
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature };
  expect(webhook.verify(body, headers)).toEqual({ type: 'webhook.test' });
}

function expectProblem(response: JsonResponse, status: number, type: string): ReturnType<typeof problemOf> {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.contentType).toContain('application/problem+json');
  const problem = problemOf(response);
  expect(problem.type).toBe(type);
  return problem;
}

describe('POST /v1/subscriptions', () => {
  it('creates an active subscription and answers 201 with a whsec_ secret that Standard Webhooks accepts', async () => {
    const body = { ...HOOK, topics: ['pilot.*', 'milestone.status_changed'], filter: { programId: 'kr-ai' }, description: 'Dashboard' };

    const response = await call(t.app, 'POST', '/v1/subscriptions', body);

    expect(response.status).toBe(201);
    const created = Created.parse(response.body);
    expect(response.headers.location).toBe(`/v1/subscriptions/${created.id}`);
    expect(created).toMatchObject({
      url: body.url,
      topics: body.topics,
      filter: { programId: 'kr-ai' },
      description: 'Dashboard',
      status: 'active',
      disabledReason: null,
      failingSince: null,
      maxInFlight: 4,
    });
    expectSigningSecret(created.secret);
  });

  it('never shows the secret again in the subscription or the list', async () => {
    const { secret, ...created } = await subscribe();

    const one = await call(t.app, 'GET', `/v1/subscriptions/${created.id}`);
    const list = await call(t.app, 'GET', '/v1/subscriptions');

    expect(one.status).toBe(200);
    expect(Subscription.parse(one.body)).toEqual(created);
    expect(JSON.stringify(one.body)).not.toContain(secret);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(secret);
  });

  it('lists every subscription, oldest first', async () => {
    const first = await subscribe();
    const second = await subscribe(t.app, { ...HOOK, maxInFlight: 1 });

    const list = z.object({ subscriptions: z.array(Subscription) }).parse((await call(t.app, 'GET', '/v1/subscriptions')).body);

    const ids = list.subscriptions.map((s) => s.id);
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id));
    expect(list.subscriptions.find((s) => s.id === second.id)?.maxInFlight).toBe(1);
  });

  it.each([
    ['an unknown topic', { ...HOOK, topics: ['pilot.*', 'nope.happened'] }, '/topics/1'],
    ['no topics', { ...HOOK, topics: [] }, '/topics'],
    ['a repeated topic', { ...HOOK, topics: ['*', '*'] }, '/topics'],
    ['more than 50 topics', { ...HOOK, topics: Array.from({ length: 51 }, () => '*') }, '/topics'],
    ['a URL that is not one', { ...HOOK, url: 'hooks.example/ledger' }, '/url'],
    ['a URL of another scheme', { ...HOOK, url: 'ftp://hooks.example/ledger' }, '/url'],
    ['no URL', { topics: HOOK.topics }, '/url'],
    ['a URL with a fragment, which a delivery never sends', { ...HOOK, url: 'https://hooks.example/ledger#part' }, '/url'],
    ['a URL naming port 0', { ...HOOK, url: 'https://hooks.example:0/ledger' }, '/url'],
    ['a filter on a malformed program id', { ...HOOK, filter: { programId: 'Not An Id' } }, '/filter/programId'],
    ['too long a description', { ...HOOK, description: 'x'.repeat(501) }, '/description'],
    ['maxInFlight above 16', { ...HOOK, maxInFlight: 17 }, '/maxInFlight'],
    ['maxInFlight that is not an integer', { ...HOOK, maxInFlight: 1.5 }, '/maxInFlight'],
  ])('answers 400 naming the field for %s, and stores nothing', async (_case, body, pointer) => {
    const before = await countRows(t.database.db);

    const response = await call(t.app, 'POST', '/v1/subscriptions', body);

    const problem = expectProblem(response, 400, '/problems/validation-failed');
    expect(problem.errors?.map((e) => e.pointer)).toContain(pointer);
    expect(await countRows(t.database.db)).toEqual(before);
  });

  it('suggests the topics a mistyped one is near: "pilot.startd", did you mean "pilot.started"?', async () => {
    const response = await call(t.app, 'POST', '/v1/subscriptions', { ...HOOK, topics: ['pilot.startd', 'milestone.status_change', 'nope.happened'] });

    const problem = expectProblem(response, 400, '/problems/validation-failed');
    expect(problem.errors?.map((e) => [e.pointer, e.detail])).toEqual([
      ['/topics/0', 'unknown topic "pilot.startd": did you mean "pilot.started"? A topic is an event type, <prefix>.*, * or milestone.status_changed'],
      ['/topics/1', 'unknown topic "milestone.status_change": did you mean "milestone.status_changed"? A topic is an event type, <prefix>.*, * or milestone.status_changed'],
      ['/topics/2', 'unknown topic "nope.happened": use an event type, <prefix>.*, * or milestone.status_changed'],
    ]);
  });

  it.each([
    ['at the top', { ...HOOK, secret: 'whsec_mine' }, 'secret'],
    ['in the filter', { ...HOOK, filter: { program: 'kr-ai' } }, 'program'],
  ])('answers 400 for an unknown key %s, and stores nothing', async (_case, body, key) => {
    const before = await countRows(t.database.db);

    const response = await call(t.app, 'POST', '/v1/subscriptions', body);

    const problem = expectProblem(response, 400, '/problems/validation-failed');
    expect(problem.detail).toContain(key);
    expect(await countRows(t.database.db)).toEqual(before);
  });

  it.each([
    ['a loopback address', 'https://127.0.0.1/x', 'blocked_address'],
    ['the cloud metadata address', 'https://169.254.169.254/', 'blocked_address'],
    ['a name that resolves to a private address', 'https://internal.example/', 'blocked_address'],
    ['a name that does not resolve', 'https://nowhere.example/', 'unresolvable'],
    ['plain http', 'http://hooks.example/', 'scheme'],
    ['a URL with credentials', 'https://user:pw@hooks.example/', 'userinfo'],
  ])('refuses %s with 422 webhook-target-refused at /url, and stores nothing', async (_case, url, reason) => {
    const before = await countRows(t.database.db);

    const response = await call(t.app, 'POST', '/v1/subscriptions', { ...HOOK, url });

    const problem = expectProblem(response, 422, '/problems/webhook-target-refused');
    expect(problem).toMatchObject({ reason, errors: [{ pointer: '/url' }] });
    expect(await countRows(t.database.db)).toEqual(before);
  });

  it('tells how to allow a refused loopback receiver: the detail names WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8', async () => {
    const response = await call(t.app, 'POST', '/v1/subscriptions', { ...HOOK, url: 'http://127.0.0.1:8080/hook' });

    const problem = expectProblem(response, 422, '/problems/webhook-target-refused');
    expect(problem).toMatchObject({ reason: 'blocked_address' });
    expect(problem.detail).toContain('set WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8 to allow loopback receivers');
  });

  it('names the single address to allow for a private one', async () => {
    const response = await call(t.app, 'POST', '/v1/subscriptions', { ...HOOK, url: 'https://internal.example/' });

    const problem = expectProblem(response, 422, '/problems/webhook-target-refused');
    expect(problem.detail).toMatch(/WEBHOOK_ALLOWED_CIDRS=[0-9.]+\/32 to allow receivers at /);
  });
});

describe('POST /v1/subscriptions with WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8', () => {
  const allowing = useTestApp({ webhooks: webhooks('127.0.0.0/8') });

  it('accepts a loopback receiver over plain http', async () => {
    const created = await subscribe(allowing.app, { ...HOOK, url: 'http://127.0.0.1:9/hook' });

    expect(created.url).toBe('http://127.0.0.1:9/hook');
  });

  it('still refuses the cloud metadata address', async () => {
    const response = await call(allowing.app, 'POST', '/v1/subscriptions', { ...HOOK, url: 'https://169.254.169.254/' });

    expectProblem(response, 422, '/problems/webhook-target-refused');
  });
});

describe('POST /v1/subscriptions with a resolver that never answers', () => {
  const silent = useTestApp({ webhooks: { ...webhooks(''), resolve: () => new Promise(() => {}), resolveTimeoutMs: 200 } });

  it('refuses the URL as unresolvable once the lookup has taken resolveTimeoutMs, and stores nothing', async () => {
    const before = await countRows(silent.database.db);

    const response = await call(silent.app, 'POST', '/v1/subscriptions', HOOK);

    const problem = expectProblem(response, 422, '/problems/webhook-target-refused');
    expect(problem).toMatchObject({ reason: 'unresolvable', errors: [{ pointer: '/url' }] });
    expect(problem.detail).toContain('hooks.example was not resolved within 200 ms');
    expect(await countRows(silent.database.db)).toEqual(before);
  });
});

describe('PATCH /v1/subscriptions/:id', () => {
  it('pauses a subscription and resumes it', async () => {
    const created = await subscribe();

    const paused = await patch(created.id, { status: 'paused' });
    const resumed = await patch(created.id, { status: 'active' });

    expect(paused.status).toBe(200);
    expect(Subscription.parse(paused.body).status).toBe('paused');
    expect(resumed.status).toBe(200);
    expect(Subscription.parse(resumed.body).status).toBe('active');
  });

  it('re-enables a disabled subscription, clearing why it was disabled and since when it failed', async () => {
    const created = await subscribe();
    await t.database.db
      .updateTable('subscription')
      .set({ status: 'disabled', disabled_reason: 'failing for 5 days', failing_since: new Date('2026-01-01T00:00:00Z') })
      .where('id', '=', created.id)
      .execute();
    const disabled = Subscription.parse((await call(t.app, 'GET', `/v1/subscriptions/${created.id}`)).body);

    const response = await patch(created.id, { status: 'active' });

    expect(disabled).toMatchObject({ status: 'disabled', disabledReason: 'failing for 5 days', failingSince: '2026-01-01T00:00:00.000Z' });
    expect(response.status).toBe(200);
    const enabled = Subscription.parse(response.body);
    expect(enabled).toMatchObject({ status: 'active', disabledReason: null, failingSince: null });
    expect(Date.parse(enabled.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
  });

  it('replaces topics, filter, description and maxInFlight, and a null filter clears it', async () => {
    const created = await subscribe(t.app, { ...HOOK, filter: { programId: 'kr-ai' }, description: 'before' });

    const changed = await patch(created.id, { topics: ['*'], filter: { consortiumId: 'skt' }, description: null, maxInFlight: 2 });
    const cleared = await patch(created.id, { filter: null });

    expect(changed.status).toBe(200);
    expect(Subscription.parse(changed.body)).toMatchObject({ topics: ['*'], filter: { consortiumId: 'skt' }, description: null, maxInFlight: 2 });
    expect(Subscription.parse(changed.body).filter).toEqual({ consortiumId: 'skt' });
    expect(Subscription.parse(cleared.body).filter).toEqual({});
  });

  it('vets a new URL as at registration: a refused one changes nothing', async () => {
    const created = await subscribe();

    const refused = await patch(created.id, { url: 'https://internal.example/hook' });
    const accepted = await patch(created.id, { url: 'https://hooks.example/elsewhere' });

    expectProblem(refused, 422, '/problems/webhook-target-refused');
    expect(accepted.status).toBe(200);
    expect(Subscription.parse(accepted.body).url).toBe('https://hooks.example/elsewhere');
  });

  it.each([
    ['an empty body', {}],
    ['an unknown key', { secret: 'whsec_mine' }],
    ['a status only the service sets', { status: 'disabled' }],
    ['an unknown topic', { topics: ['nope.happened'] }],
  ])('answers 400 for %s', async (_case, body) => {
    const created = await subscribe();

    const response = await patch(created.id, body);

    expectProblem(response, 400, '/problems/validation-failed');
    expect(Subscription.parse((await call(t.app, 'GET', `/v1/subscriptions/${created.id}`)).body).updatedAt).toBe(created.updatedAt);
  });
});

describe('DELETE /v1/subscriptions/:id', () => {
  it('answers 204, after which the subscription and its secrets are gone', async () => {
    const created = await subscribe();

    const deleted = await call(t.app, 'DELETE', `/v1/subscriptions/${created.id}`);
    const after = await call(t.app, 'GET', `/v1/subscriptions/${created.id}`);

    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expectProblem(after, 404, '/problems/not-found');
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual([]);
  });

  it('refuses a body with a field, naming it, and deletes nothing; {} deletes', async () => {
    const created = await subscribe();

    const refused = await call(t.app, 'DELETE', `/v1/subscriptions/${created.id}`, { keepDeliveries: true });

    const problem = expectProblem(refused, 400, '/problems/validation-failed');
    expect(problem.detail).toContain('unrecognized key: "keepDeliveries"');
    expect((await call(t.app, 'GET', `/v1/subscriptions/${created.id}`)).status).toBe(200);
    expect((await call(t.app, 'DELETE', `/v1/subscriptions/${created.id}`, {})).status).toBe(204);
  });
});

describe('signing secrets', () => {
  it('lists the secret a subscription was created with', async () => {
    const created = await subscribe();

    const secrets = await secretsOf(created.id);

    expect(secrets).toEqual([{ secret: created.secret, createdAt: expect.any(String), expiresAt: null }]);
  });

  it('rotates with no body: the new secret and the previous one both sign for a day, newest first', async () => {
    const created = await subscribe();

    const response = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`);

    expect(response.status).toBe(201);
    const rotated = Rotated.parse(response.body);
    expect(rotated.secret).not.toBe(created.secret);
    expect(Date.parse(rotated.previousSecretsExpireAt ?? '') - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    const secrets = await secretsOf(created.id);
    expect(secrets.map((s) => s.secret)).toEqual([rotated.secret, created.secret]);
    expect(secrets.map((s) => s.expiresAt)).toEqual([null, rotated.previousSecretsExpireAt]);
    for (const { secret } of secrets) expectSigningSecret(secret);
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual([rotated.secret, created.secret]);
  });

  it('rotates with no overlap: only the new secret signs, even after an earlier overlapping rotation', async () => {
    const created = await subscribe();
    await call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`, { overlapSeconds: 3600 });

    const response = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`, { overlapSeconds: 0 });

    expect(response.status).toBe(201);
    const rotated = Rotated.parse(response.body);
    expect((await secretsOf(created.id)).map((s) => s.secret)).toEqual([rotated.secret]);
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual([rotated.secret]);
  });

  it('refuses a rotation with overlap that would leave more than 3 secrets signing, with 409 and nothing changed; one without overlap still goes through', async () => {
    const created = await subscribe();
    const rotate = (overlapSeconds: number) => call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`, { overlapSeconds });
    await rotate(604_800);
    const second = await rotate(3600);
    const before = await findSigningSecrets(t.database.db, created.id);

    const refused = await rotate(3600);

    const problem = expectProblem(refused, 409, '/problems/too-many-secrets');
    expect(problem).toMatchObject({ limit: 3, nextExpiry: Rotated.parse(second.body).previousSecretsExpireAt });
    expect(before).toHaveLength(3);
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual(before);
    const leaked = await rotate(0);
    expect(leaked.status).toBe(201);
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual([Rotated.parse(leaked.body).secret]);
  });

  it('answers 400 for an overlap longer than 7 days', async () => {
    const created = await subscribe();

    const response = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`, { overlapSeconds: 604_801 });

    const problem = expectProblem(response, 400, '/problems/validation-failed');
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/overlapSeconds']);
    expect(await findSigningSecrets(t.database.db, created.id)).toEqual([created.secret]);
  });
});

describe('POST /v1/subscriptions/:id/test', () => {
  it('answers 202 and queues one pending webhook.test delivery for that subscription alone', async () => {
    const created = await subscribe();
    const bystander = await subscribe(t.app, { ...HOOK, topics: ['*'] });

    const response = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/test`);

    expect(response.status).toBe(202);
    const { notificationId, deliveryId } = z.object({ notificationId: z.uuid(), deliveryId: z.uuid() }).parse(response.body);
    // Time-ordered, as every notification's id (test/http/time-ordered-ids.test.ts).
    expect(notificationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
    const deliveries = await t.database.db
      .selectFrom('webhook_delivery as d')
      .innerJoin('notification as n', 'n.id', 'd.notification_id')
      .select(['d.id', 'd.subscription_id', 'd.state', 'n.topic', 'n.data'])
      .where('d.notification_id', '=', notificationId)
      .execute();
    expect(deliveries).toEqual([
      { id: deliveryId, subscription_id: created.id, state: 'pending', topic: 'webhook.test', data: { subscriptionId: created.id, message: 'ping' } },
    ]);
    expect(deliveries.map((d) => d.subscription_id)).not.toContain(bystander.id);
  });

  it('refuses a body with a field, naming it, and queues nothing: the operation has no options to ignore', async () => {
    const created = await subscribe();
    const queued = () => t.database.db.selectFrom('webhook_delivery').select('id').where('subscription_id', '=', created.id).execute();

    const refused = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/test`, { message: 'hello' });
    const notAnObject = await call(t.app, 'POST', `/v1/subscriptions/${created.id}/test`, ['ping']);

    expect(expectProblem(refused, 400, '/problems/validation-failed').detail).toContain('unrecognized key: "message"');
    expectProblem(notAnObject, 400, '/problems/validation-failed');
    expect(await queued()).toEqual([]);
    expect((await call(t.app, 'POST', `/v1/subscriptions/${created.id}/test`, {})).status).toBe(202);
    expect(await queued()).toHaveLength(1);
  });
});

describe('subscription routes for an unknown or malformed id', () => {
  const ROUTES: readonly [method: 'GET' | 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown][] = [
    ['GET', ''],
    ['PATCH', '', { description: 'x' }],
    ['DELETE', ''],
    ['GET', '/secret'],
    ['POST', '/rotate-secret', {}],
    ['POST', '/test'],
  ];

  it.each(ROUTES)('%s /v1/subscriptions/:id%s answers 404 not-found for an unknown id, storing nothing', async (method, path, body) => {
    const id = randomUUID();
    const before = await countRows(t.database.db);

    const response = await call(t.app, method, `/v1/subscriptions/${id}${path}`, body);

    expect(expectProblem(response, 404, '/problems/not-found').detail).toContain(id);
    expect(await countRows(t.database.db)).toEqual(before);
  });

  it.each(ROUTES)('%s /v1/subscriptions/:id%s answers 400 naming the id parameter when it is not a UUID', async (method, path, body) => {
    const response = await call(t.app, method, `/v1/subscriptions/not-a-uuid${path}`, body);

    expect(expectProblem(response, 400, '/problems/validation-failed').errors).toEqual([{ parameter: 'id', detail: expect.any(String) }]);
  });
});
