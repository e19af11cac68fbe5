import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { z } from 'zod';
import { buildApp, DEFAULT_LIMITS } from '../../src/app.js';
import { createApiKey } from '../../src/services/api-keys.js';
import { bearer, call, problemOf, TEST_ADMIN_KEY } from '../support/http.js';
import { statementRecorder } from '../support/statement-cost.js';
import { LOGGER_OPTIONS } from '../../src/http/logger-options.js';
import { useTestApp } from '../support/test-app.js';

const LIMIT = 5;
const t = useTestApp({ limits: { rateLimitPerMinute: LIMIT } });

async function createReaderKey(name: string): Promise<Record<string, string>> {
  const created = await call(t.app, 'POST', '/v1/api-keys', { name, role: 'reader' });
  return bearer(z.object({ key: z.string() }).parse(created.body).key);
}

async function directReaderKey(name: string): Promise<Record<string, string>> {
  return bearer((await createApiKey(t.database.db, name, 'reader')).key);
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

  it('counts the requests its role refuses (403) against the key too: a reader cannot call admin routes without limit', async () => {
    const reader = await directReaderKey('forbidden-caller');

    const forbidden = [];
    for (let i = 0; i < LIMIT; i++) forbidden.push((await call(t.app, 'GET', '/v1/subscriptions', undefined, reader)).status);
    const afterwards = await call(t.app, 'GET', '/v1/programs', undefined, reader);
    const stillForbidden = await call(t.app, 'POST', '/v1/events', { type: 'seminar.held' }, reader);

    expect(forbidden).toEqual(Array(LIMIT).fill(403));
    expect(afterwards.status).toBe(429);
    expect(stillForbidden.status).toBe(429);
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

  it('never lets a busy key past its limit, however its requests are spread over instances that lease counts in advance', async () => {
    const BUSY_LIMIT = 400;
    // Made directly: the admin key has only LIMIT requests a minute on this file's instance.
    const key = await directReaderKey('busy');
    const instances = await Promise.all(
      [0, 1, 2].map(async () => buildApp({ db: t.database.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: BUSY_LIMIT } })),
    );
    try {
      // Waves of concurrent requests, so that each instance sees the key busy and leases more at a time.
      const statuses: number[] = [];
      for (let wave = 0; wave < 10; wave++) {
        statuses.push(
          ...(await Promise.all(
            Array.from({ length: 60 }, async (_, i) => (await call(instances[(wave + i) % 3] ?? t.app, 'GET', '/v1/programs', undefined, key)).status),
          )),
        );
      }

      expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(BUSY_LIMIT);
      // What an instance leased and had no request for is lost to the others, at most 63 counts each.
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(BUSY_LIMIT - 3 * 63);
      expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    } finally {
      await Promise.all(instances.map(async (app) => app.close()));
    }
  });

  it('counts a busy key in leases: far fewer statements than requests', async () => {
    const recorder = statementRecorder();
    const key = await directReaderKey('counted in leases');
    const app = await buildApp({ db: recorder.wrap(t.database.db), adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 100_000 } });
    try {
      recorder.take();
      for (let wave = 0; wave < 10; wave++) {
        const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await call(app, 'GET', '/v1/event-types', undefined, key)).status));
        expect(statuses).toEqual(Array(20).fill(200));
      }
      const counted = recorder.take().filter((q) => q.sql.includes('count_requests('));

      expect(counted.length).toBeGreaterThan(0);
      expect(counted.length).toBeLessThan(200 / 4);
    } finally {
      await app.close();
    }
  });

  it('counts the requests of many quiet keys that come at once in a few statements, not one a key, each key within its limit (probe of quiet keys)', async () => {
    const recorder = statementRecorder();
    const keys = await Promise.all(Array.from({ length: 40 }, async (_, n) => directReaderKey(`quiet ${n}`)));
    const app = await buildApp({ db: recorder.wrap(t.database.db), adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 2 } });
    try {
      recorder.take();
      // Three requests of each key, the keys at once: two are served, the third is over the limit.
      const statuses = [];
      for (let round = 0; round < 3; round++) {
        statuses.push(await Promise.all(keys.map(async (key) => (await call(app, 'GET', '/v1/event-types', undefined, key)).status)));
      }
      const counted = recorder.take().filter((q) => q.sql.includes('count_requests(') || q.sql.includes('rate_limit_window'));

      expect(statuses).toEqual([Array(40).fill(200), Array(40).fill(200), Array(40).fill(429)]);
      // A statement for the first key or two of a round, one for the keys that waited meanwhile.
      expect(counted.length).toBeLessThanOrEqual(3 * 4);
    } finally {
      await app.close();
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

describe('rate limiting under a burst', () => {
  const busy = useTestApp({ poolSize: 10, limits: { rateLimitPerMinute: 3, apiKeyCacheMs: 60_000 } });

  it("serves a key its limit and no more when its requests come at once while every connection of the pool is busy (review: a limiter that let through what it had not counted within 500 ms served 300 of one key's)", async () => {
    // PGlite has no pool to keep busy: it runs one statement at a time.
    if (!busy.database.concurrentTransactions) return;
    const key = bearer((await createApiKey(busy.database.db, 'burst', 'reader')).key);
    expect((await call(busy.app, 'GET', '/v1/event-types', undefined, key)).status).toBe(200);

    // Every connection busy for a second and a half: the key is known (remembered), but its next
    // count waits that long for a connection.
    const held = Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(1.5)`.execute(busy.database.db)));
    const burst = await Promise.all(Array.from({ length: 300 }, () => call(busy.app, 'GET', '/v1/event-types', undefined, key)));
    await held;

    expect(burst.filter((a) => a.status === 200)).toHaveLength(2);
    expect(burst.filter((a) => a.status === 429)).toHaveLength(298);
  }, 30_000);
});

describe('rate limiting, when its counters stop answering', () => {
  // A small pool, as the service's is for its load: the counters may hold only part of it.
  const small = useTestApp({ poolSize: 5, limits: { rateLimitPerMinute: LIMIT } });

  it('answers the requests of many keys, and /readyz, while the counter table is locked, without waiting for the lock (PostgreSQL server only: PGlite is one session)', async () => {
    if (!small.database.concurrentTransactions) return;
    const keys = await Promise.all(Array.from({ length: 12 }, async (_, i) => bearer((await createApiKey(small.database.db, `locked out ${i}`, 'reader')).key)));
    const answered = await small.database.db.transaction().execute(async (trx) => {
      await sql`lock table rate_limit_window in access exclusive mode`.execute(trx);
      const requests = Promise.all([
        ...keys.map((key) => call(small.app, 'GET', '/v1/programs', undefined, key)),
        call(small.app, 'GET', '/readyz', undefined, {}),
      ]);
      // Answered while the lock is held, or still waiting once 8 s have passed: the lock is released
      // (by this transaction's end) only after either.
      return Promise.race([requests, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 8_000))]);
    });

    expect(answered).not.toBe('still waiting');
    if (answered === 'still waiting') return;
    expect(answered.map((r) => r.status)).toEqual([...keys.map(() => 200), 200]);
  });
});

describe('rate limiting, telling what it let through', () => {
  /** The lines the app logs about requests the limiter let through, as their numbers. */
  const written: string[] = [];
  const told = useTestApp({ logger: { ...LOGGER_OPTIONS, level: 'info', stream: { write: (line) => written.push(line) } } });
  const letThroughSaid = () =>
    written.flatMap((line) => {
      const parsed = z.object({ requestsLetThrough: z.int() }).safeParse(JSON.parse(line));
      return parsed.success ? [parsed.data.requestsLetThrough] : [];
    });

  it("logs the first request a failing counter lets through at once, and those after it within 10 s once the 10 s have passed, each episode whole (probe of the day's fixes)", async () => {
    const key = bearer((await createApiKey(told.database.db, 'told', 'reader')).key);
    await sql`alter table rate_limit_window rename to rate_limit_window_away`.execute(told.database.db);
    try {
      expect((await call(told.app, 'GET', '/v1/event-types', undefined, key)).status).toBe(200);
      const first = letThroughSaid();
      // After the counter's failing second, so that each of these tries to count and fails.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      for (let i = 0; i < 5; i++) expect((await call(told.app, 'GET', '/v1/event-types', undefined, key)).status).toBe(200);

      expect(first).toEqual([1]);
      await expect.poll(letThroughSaid, { timeout: 12_000, interval: 250 }).toEqual([1, 5]);
    } finally {
      await sql`alter table rate_limit_window_away rename to rate_limit_window`.execute(told.database.db);
    }
  }, 30_000);
});
