import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { buildApp, DEFAULT_LIMITS } from '../../src/app.js';
import { bearer, call, problemOf, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

// This instance remembers active keys for a second, as a deployment would (API_KEY_CACHE_MS).
const t = useTestApp({ limits: { apiKeyCacheMs: 1000 } });

async function readerKey(name: string): Promise<{ id: string; headers: Record<string, string> }> {
  const created = z.object({ id: z.uuid(), key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name, role: 'reader' })).body);
  return { id: created.id, headers: bearer(created.key) };
}

async function otherInstance(apiKeyCacheMs: number): Promise<FastifyInstance> {
  return buildApp({ db: t.database.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 1_000_000, apiKeyCacheMs } });
}

const programs = (app: FastifyInstance, headers: Record<string, string>) => call(app, 'GET', '/v1/programs', undefined, headers);

describe('API keys remembered by an instance (API_KEY_CACHE_MS)', () => {
  it('refuses a key at once on the instance that revoked it, though it had just remembered the key', async () => {
    const key = await readerKey('revoked here');
    expect((await programs(t.app, key.headers)).status).toBe(200);

    expect((await call(t.app, 'DELETE', `/v1/api-keys/${key.id}`)).status).toBe(200);
    const refused = await programs(t.app, key.headers);

    expect(refused.status).toBe(401);
    expect(problemOf(refused).type).toBe('/problems/unauthorized');
  });

  it('lets another instance sharing the database trust a key it remembers until its time is up, then refuse it', async () => {
    const key = await readerKey('revoked elsewhere');
    const remembering = await otherInstance(60_000);
    const expiring = await otherInstance(300);
    const uncached = await otherInstance(0);
    try {
      for (const app of [remembering, expiring, uncached]) expect((await programs(app, key.headers)).status).toBe(200);
      expect((await call(t.app, 'DELETE', `/v1/api-keys/${key.id}`)).status).toBe(200);

      // Without a cache the revocation holds everywhere at once; with one, it holds once the key is forgotten.
      expect((await programs(uncached, key.headers)).status).toBe(401);
      expect((await programs(remembering, key.headers)).status).toBe(200);
      const deadline = Date.now() + 10_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await programs(expiring, key.headers)).status;
      }
      expect(status).toBe(401);
    } finally {
      await Promise.all([remembering.close(), expiring.close(), uncached.close()]);
    }
  });
});
