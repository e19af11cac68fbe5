import { setTimeout as sleep } from 'node:timers/promises';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRequestCounter } from '../../src/services/rate-limits.js';
import type { Db } from '../../src/store/database.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

/** The same database, but each rate-limit statement's answer arrives `ms` late (a slow network, a busy event loop). */
function late(db: Db, ms: number): Db {
  const executor = db.getExecutor();
  const slow = new Set<unknown>();
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      if (executor.compileQuery(node, queryId).sql.includes('rate_limit_window')) slow.add(queryId);
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      if (slow.delete(queryId)) await sleep(ms);
      return result;
    },
  };
  return db.withPlugin(plugin);
}

describe('rate-limit leases at a window boundary', () => {
  it('serves no more than the limit in one shared window, even when an instance hears back late', async () => {
    const MAX = 10;
    const WINDOW = 3000;
    const key = 'boundary';
    const a = createKeyRequestCounter(late(database.db, 500), MAX);
    const b = createKeyRequestCounter(database.db, MAX);

    const t0 = Date.now();
    // A gets busy: leases of 1, 2, then 4 counts, of which it uses one; 3 stay leased.
    for (let i = 0; i < 4; i++) expect((await a(key, WINDOW)).hits).toBeLessThanOrEqual(MAX);
    // The shared window has ended (it began with A's first statement, just after t0).
    await sleep(t0 + WINDOW + 100 - Date.now());

    let allowedInNewWindow = 0;
    for (let i = 0; i < MAX; i++) if ((await b(key, WINDOW)).hits <= MAX) allowedInNewWindow++;
    for (let i = 0; i < 3; i++) if ((await a(key, WINDOW)).hits <= MAX) allowedInNewWindow++;
    const elapsed = Date.now() - (t0 + WINDOW);

    expect(elapsed).toBeLessThan(WINDOW);
    expect(allowedInNewWindow).toBeLessThanOrEqual(MAX);
  });
});
