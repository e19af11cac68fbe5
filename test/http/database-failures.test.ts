import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp, DEFAULT_LIMITS, type WebhookSettings } from '../../src/app.js';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { openDatabase } from '../../src/store/open-database.js';
import { appendsWaitingForLock } from '../support/blocked-appends.js';
import { countEvents } from '../support/event-count.js';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { call, get, post, problemOf, record, TEST_ADMIN_KEY, type JsonResponse } from '../support/http.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { useTestApp } from '../support/test-app.js';

// Subscriptions to a public-looking name, resolved without DNS.
const webhooks: WebhookSettings = {
  rules: { addresses: parseAllowedCidrs(''), allowHttp: false },
  resolve: async (host) => (host === 'hooks.example.org' ? [{ address: '93.184.216.34', family: 4 }] : []),
  defaultMaxInFlight: 4,
};
const t = useTestApp({ webhooks });

describe('database failures answered as problems', () => {
  it('a request while the database cannot be reached (connection refused) is a 503 database-unavailable problem with Retry-After', async () => {
    const unreachable = await openDatabase({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', poolSize: 1 });
    const app = await buildApp({ db: unreachable.db, adminApiKey: TEST_ADMIN_KEY });

    const response = await post(app, seminarHeld('p-any'));

    await app.close();
    await unreachable.db.destroy();
    expect(response.status).toBe(503);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('1');
    expect(problemOf(response)).toMatchObject({ type: '/problems/database-unavailable', status: 503 });
  });

  it('a request while the server refuses the connection itself (the database not accepting connections, or gone) is a 503 database-unavailable problem, not a 500 (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const refusing = uniqueId('ml_refusing').replaceAll('-', '_');
    await sql`create database ${sql.id(refusing)} allow_connections false`.execute(t.database.db);
    const statuses: number[][] = [];
    try {
      // SQLSTATE 55000 (ALTER DATABASE … ALLOW_CONNECTIONS false) and 3D000 (no such database).
      for (const name of [refusing, `${refusing}_gone`]) {
        const url = new URL(t.database.url);
        url.pathname = `/${name}`;
        const opened = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 1 });
        const app = await buildApp({ db: opened.db, adminApiKey: TEST_ADMIN_KEY });
        const append = await post(app, seminarHeld('p-any'));
        const read = await get(app, '/v1/programs');
        await app.close();
        await opened.db.destroy();
        statuses.push([append.status, read.status]);
        expect(problemOf(append)).toMatchObject({ type: '/problems/database-unavailable', status: 503 });
        expect(append.headers['retry-after']).toBe('1');
      }
    } finally {
      await sql`drop database ${sql.id(refusing)}`.execute(t.database.db);
    }
    expect(statuses).toEqual([
      [503, 503],
      [503, 503],
    ]);
  });

  it('a feed read without following, by a known key, once the database has gone away, is a 503 problem, not an empty stream (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const server = new URL(t.database.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const proxied = new URL(t.database.url);
    proxied.port = String(proxy.port);
    const db = await openDatabase({ kind: 'postgres', url: proxied.toString(), poolSize: 2 });
    // The key is trusted for a minute once found, whatever the machine's load between the requests.
    const app = await buildApp({ db: db.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, apiKeyCacheMs: 60_000 } });

    // The key is known now (cached), so that the feed itself is the first to find the database gone.
    const before = await get(app, '/v1/feed?follow=false');
    await proxy.close();
    const response = await get(app, '/v1/feed?follow=false');

    await app.close();
    await db.db.destroy();
    expect(before.status).toBe(200);
    expect(response.status).toBe(503);
    expect(response.contentType).toContain('application/problem+json');
    expect(problemOf(response)).toMatchObject({ type: '/problems/database-unavailable', status: 503 });
  });

  it('a database the network stops answering, without closing a connection (a partition), gives 503 problems, not requests that hang, and the service answers again once the network is back, storing a retried append once (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));
    const server = new URL(t.database.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const proxied = new URL(t.database.url);
    proxied.port = String(proxy.port);
    const db = await openDatabase({ kind: 'postgres', url: proxied.toString(), poolSize: 2 }, { statementTimeoutMs: 300, responseMarginMs: 300 });
    // The key is trusted for a minute once found, so that the requests themselves meet the partition.
    const app = await buildApp({ db: db.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, apiKeyCacheMs: 60_000 } });
    const headers = { 'idempotency-key': uniqueId('k') };
    const before = await countEvents(t.database.db);

    const healthy = await get(app, `/v1/programs/${programId}`);
    proxy.freeze();
    const read = await get(app, `/v1/programs/${programId}`);
    const append = await post(app, seminarHeld(programId), headers);
    proxy.thaw();
    const readAgain = await get(app, `/v1/programs/${programId}`);
    const retried = await post(app, seminarHeld(programId), headers);

    await app.close();
    await db.db.destroy();
    await proxy.close();
    expect(healthy.status).toBe(200);
    expect(read.status).toBe(503);
    expect(problemOf(read)).toMatchObject({ type: '/problems/database-unavailable', status: 503 });
    // Whether the append met the partition on a connection it held (its outcome unknown) or opening one (nothing sent).
    expect(append.status).toBe(503);
    expect(['/problems/commit-outcome-unknown', '/problems/database-unavailable']).toContain(problemOf(append).type);
    expect(readAgain.status).toBe(200);
    expect(retried.status).toBe(201);
    expect(await countEvents(t.database.db)).toBe(before + 1);
  });

  it('an append whose connection is terminated while it runs is a 503 commit-outcome-unknown problem, and a retry with the same Idempotency-Key stores it once (PostgreSQL server only: PGlite has no connection to terminate)', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));
    const headers = { 'idempotency-key': uniqueId('k') };
    const before = await countEvents(t.database.db);

    if (!t.database.concurrentTransactions) {
      expect((await post(t.app, seminarHeld(programId), headers)).status).toBe(201);
      expect(await countEvents(t.database.db)).toBe(before + 1);
      return;
    }
    // The table lock holds the append inside its statement until its backend is terminated.
    const cut = await t.database.db.transaction().execute(async (trx) => {
      await sql`lock table event in share mode`.execute(trx);
      const appending = post(t.app, seminarHeld(programId), headers);
      const [backend] = await appendsWaitingForLock(t.database.db, 1);
      await sql`select pg_terminate_backend(${backend})`.execute(trx);
      return { response: await appending };
    });
    const retried = await post(t.app, seminarHeld(programId), headers);

    expect(cut.response.status).toBe(503);
    expect(cut.response.contentType).toContain('application/problem+json');
    expect(cut.response.headers['retry-after']).toBe('1');
    expect(problemOf(cut.response)).toMatchObject({ type: '/problems/commit-outcome-unknown', idempotencyKey: headers['idempotency-key'] });
    // With a key a retry may replay a first request, whose events have other ids: none is named.
    expect(problemOf(cut.response)).not.toHaveProperty('eventIds');
    expect(problemOf(cut.response).detail).toContain('same Idempotency-Key is safe');
    expect(retried.status).toBe(201);
    expect(await countEvents(t.database.db)).toBe(before + 1);
  });

  it('an append without an Idempotency-Key whose connection is terminated while it runs names the ids its events were given, which tell whether it was stored (PostgreSQL server only: PGlite has no connection to terminate)', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));
    if (!t.database.concurrentTransactions) return;
    const before = await countEvents(t.database.db);
    const cut = await t.database.db.transaction().execute(async (trx) => {
      await sql`lock table event in share mode`.execute(trx);
      const appending = post(t.app, { events: [seminarHeld(programId), seminarHeld(programId)] });
      const [backend] = await appendsWaitingForLock(t.database.db, 1);
      await sql`select pg_terminate_backend(${backend})`.execute(trx);
      return appending;
    });

    expect(cut.status).toBe(503);
    // A check is final only once the append cannot still be running (the default statement timeout, 15 s):
    // Retry-After says to wait that long, not the second a retry with a key may wait.
    expect(cut.headers['retry-after']).toBe('15');
    const problem = z.object({ type: z.string(), detail: z.string(), eventIds: z.array(z.uuid()) }).parse(problemOf(cut));
    expect(problem.detail).toContain("15 seconds (the service's statement timeout) have passed");
    expect(problem.type).toBe('/problems/commit-outcome-unknown');
    expect(problem.eventIds).toHaveLength(2);
    expect(problem.detail).toContain(`GET /v1/events/${problem.eventIds[0]}`);
    // Terminated before its commit: the check the problem names says it was not stored.
    expect((await call(t.app, 'GET', `/v1/events/${problem.eventIds[0]}`)).status).toBe(404);
    expect(await countEvents(t.database.db)).toBe(before);
  });

  it('a query that outlasts the statement timeout is a 503 database-timeout problem and stores nothing (PostgreSQL server only: the timeout is a server setting)', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));
    const before = await countEvents(t.database.db);
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const timed = await openDatabase({ kind: 'postgres', url: t.database.url, poolSize: 2 }, { statementTimeoutMs: 300 });
    const app = await buildApp({ db: timed.db, adminApiKey: TEST_ADMIN_KEY });

    const response = await t.database.db.transaction().execute(async (trx) => {
      await sql`lock table event in share mode`.execute(trx);
      return post(app, seminarHeld(programId));
    });

    await app.close();
    await timed.db.destroy();
    expect(response.status).toBe(503);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('1');
    expect(problemOf(response)).toMatchObject({ type: '/problems/database-timeout' });
    expect(await countEvents(t.database.db)).toBe(before);
  });

  it('a request whose transaction the database rolls back to break a deadlock is a 503 database-conflict problem with Retry-After, and nothing is changed', async () => {
    const created = await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example.org/ledger', topics: ['*'] });
    const { id } = z.object({ id: z.string() }).parse(created.body);
    // PostgreSQL raises 40P01 in the transaction it chooses to end; a trigger raises it here on demand.
    await sql`create function ml_test_deadlock() returns trigger language plpgsql as $$
              begin raise exception 'deadlock detected' using errcode = '40P01'; end $$`.execute(t.database.db);
    await sql`create trigger ml_test_deadlock before delete on subscription for each row execute function ml_test_deadlock()`.execute(t.database.db);
    try {
      const response = await call(t.app, 'DELETE', `/v1/subscriptions/${id}`);
      const after = await call(t.app, 'GET', `/v1/subscriptions/${id}`);

      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(problemOf(response)).toMatchObject({ type: '/problems/database-conflict', status: 503 });
      expect(after.status).toBe(200);
    } finally {
      await sql`drop trigger ml_test_deadlock on subscription`.execute(t.database.db);
      await sql`drop function ml_test_deadlock()`.execute(t.database.db);
    }
  });
});

describe('a database whose disk is full', () => {
  it('answers an append it cannot store 503 database-full, saying so, with a Retry-After of a minute, and stores nothing; then stores it once there is room (probe of the embedded database)', async () => {
    const programId = uniqueId('full');
    // PostgreSQL raises 53100 in the statement that finds no room; a trigger raises it here on demand.
    await sql`create function ml_test_disk_full() returns trigger language plpgsql as $$
              begin raise exception 'could not extend file "base/5/16932": No space left on device' using errcode = '53100'; end $$`.execute(t.database.db);
    await sql`create trigger ml_test_disk_full before insert on event for each row execute function ml_test_disk_full()`.execute(t.database.db);
    let response: JsonResponse;
    try {
      response = await call(t.app, 'POST', '/v1/events', programRegistered(programId));
    } finally {
      await sql`drop trigger ml_test_disk_full on event`.execute(t.database.db);
      await sql`drop function ml_test_disk_full()`.execute(t.database.db);
    }

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('60');
    expect(problemOf(response)).toMatchObject({ type: '/problems/database-full', detail: expect.stringContaining('no room left on its disk'), retryAfterSeconds: 60 });
    expect((await call(t.app, 'GET', `/v1/programs/${programId}`)).status).toBe(404);
    expect((await call(t.app, 'POST', '/v1/events', programRegistered(programId))).status).toBe(201);
  });
});

describe('a database that answers, while every connection of the instance is in use', () => {
  const one = useTestApp({ poolSize: 1 });

  it('is a 503 database-unavailable that says the connections are busy, not that the database is out of reach (PostgreSQL server only: PGlite has no pool)', async () => {
    if (!one.database.concurrentTransactions) return;
    const response = await one.database.db.transaction().execute(async (trx) => {
      // The pool's one connection, held: the request waits for it (5 s) and is answered meanwhile.
      await sql`select 1`.execute(trx);
      return get(one.app, '/v1/programs');
    });

    expect(response.status).toBe(503);
    expect(problemOf(response)).toMatchObject({ type: '/problems/database-unavailable', retryAfterSeconds: 1 });
    expect(problemOf(response).detail).toContain("none of this instance's connections to the database came free in time: all were in use, or still being made");
  });
});

