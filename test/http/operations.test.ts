import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openDatabase } from '../../src/store/open-database.js';
import { checkDatabaseReadiness } from '../../src/store/readiness.js';
import { call, get, problemOf } from '../support/http.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';
import type { FastifyInstance } from 'fastify';

let database: TestDatabase;
let app: FastifyInstance;
beforeAll(async () => {
  database = await openTestDatabase();
  app = await buildApp({ db: database.db, checkReadiness: () => checkDatabaseReadiness(database.db) });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe('operations', () => {
  it('/healthz answers while the process is up', async () => {
    expect((await get(app, '/healthz')).body).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when the database is reachable and migrated', async () => {
    const response = await get(app, '/readyz');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', database: true, migrations: true });
  });

  it('/readyz answers 503 when the database is not reachable', async () => {
    const unreachable = await openDatabase({ kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none', poolSize: 1 });
    const broken = await buildApp({ db: unreachable.db, checkReadiness: () => checkDatabaseReadiness(unreachable.db) });

    const response = await get(broken, '/readyz');

    expect(response.status).toBe(503);
    // Whether the migrations are applied cannot be known then: null, not false ("missing").
    expect(response.body).toEqual({ status: 'not_ready', database: false, migrations: null });
    await broken.close();
    await unreachable.db.destroy();
  });

  it('/readyz says not ready within its own limit when the database never answers, not when the pool gives up connecting (probe of the metrics)', async () => {
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const mute = await openDatabase({ kind: 'postgres', url: `postgres://nobody@127.0.0.1:${address.port}/none`, poolSize: 1 }, { statementTimeoutMs: 15_000 });
    try {
      const checked = checkDatabaseReadiness(mute.db, 200);
      const outcome = await Promise.race([checked, sleep(3000).then(() => 'still waiting' as const)]);

      expect(outcome).toEqual({ database: false, migrations: null });
    } finally {
      silent.close();
      await mute.db.destroy().catch(() => {});
    }
  });

  it('answers an unknown route with a 404 problem', async () => {
    const response = await call(app, 'POST', '/v1/nothing-here', { a: 1 });

    expect(response.status).toBe(404);
    expect(response.contentType).toContain('application/problem+json');
    expect(problemOf(response)).toMatchObject({ type: '/problems/not-found', detail: 'no route POST /v1/nothing-here', instance: '/v1/nothing-here' });
  });

  it('serves every problem type at the URI it is named by', async () => {
    const list = await get(app, '/problems');
    const { problemTypes: types } = z.object({ problemTypes: z.array(z.object({ type: z.string(), status: z.int() })) }).parse(list.body);

    expect(types.map((p) => p.type)).toContain('/problems/version-conflict');
    for (const { type, status } of types) {
      const one = await get(app, type);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ type, status });
    }
  });
});
