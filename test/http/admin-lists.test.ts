import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { WebhookSettings } from '../../src/app.js';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { encodeAttemptCursor } from '../../src/store/page-cursor.js';
import { programRegistered, uniqueId } from '../support/events.js';
import { call, get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/* SPEC §5: every list is paged, the admin ones too. */

const webhooks: WebhookSettings = {
  rules: { addresses: parseAllowedCidrs(''), allowHttp: false },
  resolve: async (host) => (host === 'hooks.example' ? [{ address: '93.184.216.34', family: 4 }] : []),
  defaultMaxInFlight: 4,
};
const t = useTestApp({ webhooks });

async function readAll(path: string, field: 'apiKeys' | 'subscriptions'): Promise<string[][]> {
  const pages: string[][] = [];
  let after = '';
  for (let i = 0; i < 20; i++) {
    const response = await get(t.app, `${path}?limit=2${after}`);
    expect(response.status).toBe(200);
    const body = z.record(z.string(), z.unknown()).parse(response.body);
    pages.push(z.array(z.object({ id: z.string() })).parse(body[field]).map((item) => item.id));
    const next = z.string().optional().parse(body.nextCursor);
    if (next === undefined) return pages;
    after = `&after=${encodeURIComponent(next)}`;
  }
  return pages;
}

describe('admin lists, paged', () => {
  it('pages API keys and subscriptions oldest first, each once, at most `limit` a page', async () => {
    const keys: string[] = [];
    const subscriptions: string[] = [];
    for (let i = 0; i < 5; i++) {
      const key = await call(t.app, 'POST', '/v1/api-keys', { name: `desk ${i}`, role: 'reader' });
      keys.push(z.object({ id: z.string() }).parse(key.body).id);
      const subscription = await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/ledger', topics: ['*'] });
      subscriptions.push(z.object({ id: z.string() }).parse(subscription.body).id);
    }

    const keyPages = await readAll('/v1/api-keys', 'apiKeys');
    const subscriptionPages = await readAll('/v1/subscriptions', 'subscriptions');

    for (const pages of [keyPages, subscriptionPages]) {
      expect(pages.every((page) => page.length <= 2)).toBe(true);
      // The last page has no cursor, full or not: six keys are three pages, not three and an empty one.
      expect(pages.every((page) => page.length > 0)).toBe(true);
      expect(new Set(pages.flat()).size).toBe(pages.flat().length);
    }
    // The admin key seeded at start comes first; then the five, in the order they were made.
    expect(keyPages.flat().slice(-5)).toEqual(keys);
    expect(subscriptionPages.flat()).toEqual(subscriptions);
    expect(keyPages.map((page) => page.length)).toEqual([2, 2, 2]);
  });

  it.each([
    ['since', { since: '0000-01-01T00:00:00Z' }],
    ['since', { since: '9999-12-31T23:59:59-23:59' }],
    ['until', { since: '2026-01-01T00:00:00Z', until: '0000-01-01T00:00:00Z' }],
  ])('refuses to recover deliveries with %s outside the years a date can name: 400 naming the field, not a 500 from the database', async (field, body) => {
    const created = await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/ledger', topics: ['*'] });
    const { id } = z.object({ id: z.string() }).parse(created.body);

    const response = await call(t.app, 'POST', `/v1/subscriptions/${id}/recover`, body);

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: '/problems/validation-failed', errors: [{ pointer: `/${field}` }] });
  });

  it("pages a subscription's deliveries newest first, the last page without nextBefore", async () => {
    const created = await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/ledger', topics: ['program.registered'] });
    const { id } = z.object({ id: z.string() }).parse(created.body);
    await record(t.app, programRegistered(uniqueId('p')), programRegistered(uniqueId('p')));

    const pages: number[] = [];
    let before = '';
    for (let i = 0; i < 5; i++) {
      const response = await get(t.app, `/v1/subscriptions/${id}/deliveries?limit=1${before}`);
      const body = z.object({ deliveries: z.array(z.object({ id: z.string() })), nextBefore: z.string().optional() }).parse(response.body);
      pages.push(body.deliveries.length);
      if (body.nextBefore === undefined) break;
      before = `&before=${body.nextBefore}`;
    }

    expect(pages).toEqual([1, 1]);
  });

  it("refuses, as a place in a subscription's deliveries or a delivery's attempts, another subscription's delivery (404) or another delivery's attempt cursor (400)", async () => {
    const subscriptions = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const created = await call(t.app, 'POST', '/v1/subscriptions', { url: `https://hooks.example/${name}`, topics: ['program.registered'] });
        return z.object({ id: z.string() }).parse(created.body).id;
      }),
    );
    await record(t.app, programRegistered(uniqueId('p')));
    const deliveryOf = async (subscription: string | undefined) => {
      const body = z.object({ deliveries: z.array(z.object({ id: z.string() })) }).parse((await get(t.app, `/v1/subscriptions/${subscription}/deliveries?limit=1`)).body);
      return body.deliveries[0]?.id ?? '';
    };
    const [a, b] = [await deliveryOf(subscriptions[0]), await deliveryOf(subscriptions[1])];

    const across = await get(t.app, `/v1/subscriptions/${subscriptions[1]}/deliveries?before=${a}`);
    expect(across.status).toBe(404);
    expect(across.body).toMatchObject({ detail: expect.stringContaining('is not a delivery of subscription') });
    expect((await get(t.app, `/v1/subscriptions/${subscriptions[0]}/deliveries?before=${a}`)).status).toBe(200);
    // Its own, asked for in capitals: the same uuid.
    expect((await get(t.app, `/v1/subscriptions/${subscriptions[0]?.toUpperCase()}/deliveries?before=${a}`)).status).toBe(200);

    // The cursor a page of delivery a's attempts would carry.
    const attemptOfA = encodeAttemptCursor({ list: 'attempts', subject: a }, '1');
    const refused = await get(t.app, `/v1/deliveries/${b}?after=${attemptOfA}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ type: '/problems/invalid-cursor', errors: [{ parameter: 'after', detail: expect.stringContaining('another list') }] });
    expect((await get(t.app, `/v1/deliveries/${a}?after=${attemptOfA}`)).status).toBe(200);
    expect((await get(t.app, `/v1/deliveries/${a.toUpperCase()}?after=${attemptOfA}`)).status).toBe(200);
  });
});
