import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { call } from '../support/http.js';
import { openSse, type SseConnection } from '../support/sse.js';
import { startTestApp, useTestApp, type TestApp } from '../support/test-app.js';

const t = useTestApp({ limits: { maxFeedsPerKey: 2 } });
beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});

describe('GET /v1/feed limits', () => {
  it('lets one key hold only so many live feeds open, counting each key apart, and frees a place when one closes', async () => {
    const created = await call(t.app, 'POST', '/v1/api-keys', { name: 'second reader', role: 'reader' });
    const other = { authorization: `Bearer ${z.object({ key: z.string() }).parse(created.body).key}` };
    const open: SseConnection[] = [];
    const openFeed = async (headers: Record<string, string> = {}) => {
      const feed = await openSse(t.app, '/v1/feed', headers);
      open.push(feed);
      return feed;
    };
    try {
      const first = await openFeed();
      const second = await openFeed();

      const third = await openFeed();
      const otherKey = await openFeed(other);
      first.destroy();
      await first.ended;
      // The server learns of the closed connection a moment later; until then a fourth is still refused.
      await expect.poll(async () => (await openFeed()).status, { timeout: 10_000 }).toBe(200);

      await third.ended;
      expect([first.status, second.status, otherKey.status]).toEqual([200, 200, 200]);
      expect(third.status).toBe(429);
      expect(JSON.parse(third.body())).toMatchObject({ type: '/problems/too-many-feeds', status: 429, limit: 2 });
      // As every 429 of the service: a client that honours Retry-After does not come back at once.
      expect(third.headers['retry-after']).toBe('30');
    } finally {
      for (const feed of open) feed.destroy();
    }
  });
});

describe('GET /v1/feed limit per instance', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await startTestApp({ limits: { maxFeedsPerKey: 10, maxFeedsPerInstance: 2 } });
    await small.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => small.close());

  it('holds only so many live feeds of all keys together, answers 503 with Retry-After beyond, and frees a place when one closes', async () => {
    const created = await call(small.app, 'POST', '/v1/api-keys', { name: 'another reader', role: 'reader' });
    const other = { authorization: `Bearer ${z.object({ key: z.string() }).parse(created.body).key}` };
    const open: SseConnection[] = [];
    const openFeed = async (headers: Record<string, string> = {}) => {
      const feed = await openSse(small.app, '/v1/feed', headers);
      open.push(feed);
      return feed;
    };
    try {
      const first = await openFeed();
      const second = await openFeed(other);

      const third = await openFeed(other);
      await third.ended;
      first.destroy();
      await first.ended;
      await expect.poll(async () => (await openFeed()).status, { timeout: 10_000 }).toBe(200);

      expect([first.status, second.status]).toEqual([200, 200]);
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('30');
      expect(third.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(third.body())).toMatchObject({ type: '/problems/feed-capacity-reached', status: 503, limit: 2, retryAfterSeconds: 30 });
    } finally {
      for (const feed of open) feed.destroy();
    }
  });
});
