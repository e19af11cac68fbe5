import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRequests, type WindowCount } from '../../src/store/rate-limit-windows.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

/** `take` requests of one bucket, counted alone. */
async function count(bucket: string, windowMs: number, take = 1): Promise<WindowCount> {
  const counted = (await countRequests(database.db, [{ bucket, take }], windowMs)).get(bucket);
  if (counted === undefined) throw new Error(`no count for ${bucket}`);
  return counted;
}

describe('rate-limit windows', () => {
  it('gives 50 concurrent requests of one bucket the counts 1 to 50, each once', async () => {
    const counts = await Promise.all(Array.from({ length: 50 }, async () => (await count('concurrent', 60_000)).hits));

    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('counts several requests at once, and goes on from there', async () => {
    const leased = await count('leased', 60_000, 5);
    const next = await count('leased', 60_000);

    expect([leased.hits, next.hits]).toEqual([5, 6]);
  });

  it('counts several buckets in one call, each its own; calls naming the same buckets in other orders at once give each bucket the counts 1 to 20, each once', async () => {
    const buckets = ['many-c', 'many-a', 'many-d', 'many-b'];
    const calls = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        // Each call names the buckets in an order of its own: the function locks them in one order.
        const order = [...buckets.slice(n % 4), ...buckets.slice(0, n % 4)];
        return countRequests(database.db, order.map((bucket) => ({ bucket, take: 1 })), 60_000);
      }),
    );

    for (const bucket of buckets) {
      const hits = calls.map((counts) => counts.get(bucket)?.hits ?? NaN);
      expect([...hits].sort((a, b) => a - b), bucket).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  it('starts counting again once the window has passed, and says how long is left', async () => {
    // Long enough that the second request falls in the first one's window on a loaded machine.
    const WINDOW_MS = 1500;
    const first = await count('windowed', WINDOW_MS);
    const second = await count('windowed', WINDOW_MS);
    await sleep(first.msLeft + 50);
    const afterWindow = await count('windowed', WINDOW_MS);

    expect([first.hits, second.hits, afterWindow.hits]).toEqual([1, 2, 1]);
    expect(first.msLeft).toBeGreaterThan(0);
    expect(first.msLeft).toBeLessThanOrEqual(WINDOW_MS);
    expect(second.msLeft).toBeLessThanOrEqual(first.msLeft);
  });
});
