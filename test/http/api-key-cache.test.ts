import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { buildApp, DEFAULT_LIMITS } from '../../src/app.js';
import { bearer, call, inject, problemOf, TEST_ADMIN_KEY } from '../support/http.js';
import { countEvents } from '../support/event-count.js';
import { programRegistered } from '../support/events.js';
import { openSse, type SseConnection } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

// This instance remembers active keys for a second, as a deployment would (API_KEY_CACHE_MS).
const t = useTestApp({ limits: { apiKeyCacheMs: 1000 } });

async function readerKey(name: string, role: 'reader' | 'writer' | 'admin' = 'reader'): Promise<{ id: string; headers: Record<string, string> }> {
  const created = z.object({ id: z.uuid(), key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name, role })).body);
  return { id: created.id, headers: bearer(created.key) };
}

/**
 * A request whose headers arrive now and whose body arrives only when `send` is called, as a slow
 * client's does: what `app` answers once it has the whole body.
 */
function slowBody(app: FastifyInstance, url: string, headers: Record<string, string>, body: unknown) {
  const text = JSON.stringify(body);
  const stream = new PassThrough();
  stream.write(text.slice(0, 5));
  const answer = inject(app, {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers },
    payload: stream,
  });
  return { answer, send: () => stream.end(text.slice(5)) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Keys of this name, revoked or not (the test database holds far fewer than a page of keys). */
const keysNamed = async (name: string) =>
  z.object({ apiKeys: z.array(z.object({ name: z.string() })) }).parse((await call(t.app, 'GET', '/v1/api-keys?limit=1000')).body).apiKeys.filter((k) => k.name === name).length;

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

  it('refuses a write whose body arrives after its key was revoked: a revoked admin key creates no key, a revoked writer key records no event (probe of access under load)', async () => {
    const admin = await readerKey('slow admin', 'admin');
    const creating = slowBody(t.app, '/v1/api-keys', admin.headers, { name: 'persistence', role: 'admin' });
    // The headers have been read and the key let through; the revocation comes while the body does not.
    await sleep(100);
    expect((await call(t.app, 'DELETE', `/v1/api-keys/${admin.id}`)).status).toBe(200);
    creating.send();
    const created = await creating.answer;

    expect(created.statusCode).toBe(401);
    expect(await keysNamed('persistence')).toBe(0);

    // Revoked through another instance: refused once this one's memory of the key is older than its API_KEY_CACHE_MS.
    const writer = await readerKey('slow writer', 'writer');
    const other = await otherInstance(300);
    try {
      const eventsBefore = await countEvents(t.database.db);
      const recording = slowBody(other, '/v1/events', writer.headers, programRegistered('slow-body-program'));
      await sleep(100);
      expect((await call(t.app, 'DELETE', `/v1/api-keys/${writer.id}`)).status).toBe(200);
      await sleep(600);
      recording.send();
      const recorded = await recording.answer;

      expect(recorded.statusCode).toBe(401);
      expect(await countEvents(t.database.db)).toBe(eventsBefore);
    } finally {
      await other.close();
    }
  });

  it('ends the live feeds of a key at once when it is revoked through the instance that serves them, and within API_KEY_CACHE_MS when through another', async () => {
    const here = await readerKey('feed revoked here');
    const elsewhere = await readerKey('feed revoked elsewhere');
    // One instance that looks a feed's key up again only every minute, one every second.
    const remembering = await otherInstance(60_000);
    const looking = await otherInstance(1000);
    for (const app of [remembering, looking]) await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const first = await openSse(remembering, '/v1/feed?after=now', here.headers);
      const second = await openSse(looking, '/v1/feed?after=now', elsewhere.headers);
      for (const feed of [first, second]) expect(feed.status).toBe(200);
      const outcome = (feed: SseConnection) => Promise.race([feed.ended, sleep(5_000).then(() => 'still open')]);

      // Revoked through the instance serving it: ended at once, though its next look-up is a minute away.
      expect((await call(remembering, 'DELETE', `/v1/api-keys/${here.id}`)).status).toBe(200);
      expect(await outcome(first)).toBe('end');
      // Revoked through another instance: the serving one looks the key up again every API_KEY_CACHE_MS (here 1 s).
      expect((await call(t.app, 'DELETE', `/v1/api-keys/${elsewhere.id}`)).status).toBe(200);
      expect(await outcome(second)).toBe('end');
    } finally {
      await Promise.all([remembering.close(), looking.close()]);
    }
  });
});
