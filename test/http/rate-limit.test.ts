import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { z } from 'zod';
import { buildApp, DEFAULT_LIMITS } from '../../src/app.js';
import { bearer, call, problemOf, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const LIMIT = 5;
const t = useTestApp({ limits: { rateLimitPerMinute: LIMIT } });

async function createReaderKey(name: string): Promise<Record<string, string>> {
  const created = await call(t.app, 'POST', '/v1/api-keys', { name, role: 'reader' });
  return bearer(z.object({ key: z.string() }).parse(created.body).key);
}

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a key has used its requests for the minute, and counts each key apart', async () => {
    // The admin key (sent by default) creates two keys: that is two of its requests.
    const created = await Promise.all(
      ['first', 'second'].map(async (name) => z.object({ key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name, role: 'reader' })).body)),
    );
    const [first, second] = created.map(({ key }) => ({ authorization: `Bearer ${key}` }));
    if (first === undefined || second === undefined) throw new Error('keys not created');

    const allowed = [];
    for (let i = 0; i < LIMIT; i++) allowed.push((await call(t.app, 'GET', '/v1/programs', undefined, first)).status);
    const refused = await call(t.app, 'GET', '/v1/programs', undefined, first);
    const otherKey = await call(t.app, 'GET', '/v1/programs', undefined, second);
    const publicRoute = await call(t.app, 'GET', '/healthz', undefined, first);

    expect(allowed).toEqual(Array(LIMIT).fill(200));
    expect(refused.status).toBe(429);
    expect(problemOf(refused)).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(otherKey.status).toBe(200);
    expect(publicRoute.status).toBe(200);
  });

  it('counts a key across instances: two services on one database, hit at once, allow the limit between them', async () => {
    // The limit is per minute: a key of its own keeps this test clear of the other's counts.
    const key = await createReaderKey('shared');
    const other = await buildApp({ db: t.database.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: LIMIT } });
    try {
      const instances = [t.app, other];
      const statuses = await Promise.all(
        Array.from({ length: 4 * LIMIT }, async (_, i) => (await call(instances[i % 2] ?? t.app, 'GET', '/v1/programs', undefined, key)).status),
      );

      expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(3 * LIMIT);
    } finally {
      await other.close();
    }
  });

  it('lets a request through when its count cannot be recorded, rather than failing it', async () => {
    const key = await createReaderKey('uncounted');
    await sql`alter table rate_limit_window rename to rate_limit_window_away`.execute(t.database.db);
    try {
      const response = await call(t.app, 'GET', '/v1/programs', undefined, key);

      expect(response.status).toBe(200);
    } finally {
      await sql`alter table rate_limit_window_away rename to rate_limit_window`.execute(t.database.db);
    }
  });
});
