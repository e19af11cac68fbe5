import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { call, problemOf } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const LIMIT = 5;
const t = useTestApp({ limits: { rateLimitPerMinute: LIMIT } });

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
});
