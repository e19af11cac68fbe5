import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { call } from '../support/http.js';
import { openSse, type SseConnection } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

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
    } finally {
      for (const feed of open) feed.destroy();
    }
  });
});
