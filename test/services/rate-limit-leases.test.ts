import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRequestCounter } from '../../src/services/rate-limits.js';
import { holdingResults } from '../support/held-results.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

describe('rate-limit leases at a window boundary', () => {
  it('serves no more than the limit in one shared window, even when an instance hears back late', async () => {
    const MAX = 10;
    const WINDOW = 3000;
    const key = 'boundary';
    const a = createKeyRequestCounter(holdingResults(database.db, 'count_requests(', () => sleep(500)), MAX);
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
