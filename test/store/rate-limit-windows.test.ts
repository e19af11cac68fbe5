import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRequest } from '../../src/store/rate-limit-windows.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

describe('rate-limit windows', () => {
  it('gives 50 concurrent requests of one bucket the counts 1 to 50, each once', async () => {
    const counts = await Promise.all(Array.from({ length: 50 }, async () => (await countRequest(database.db, 'concurrent', 60_000)).hits));

    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('counts several requests at once, and goes on from there', async () => {
    const leased = await countRequest(database.db, 'leased', 60_000, 5);
    const next = await countRequest(database.db, 'leased', 60_000);

    expect([leased.hits, next.hits]).toEqual([5, 6]);
  });

  it('starts counting again once the window has passed, and says how long is left', async () => {
    // Long enough that the second request falls in the first one's window on a loaded machine.
    const WINDOW_MS = 1500;
    const first = await countRequest(database.db, 'windowed', WINDOW_MS);
    const second = await countRequest(database.db, 'windowed', WINDOW_MS);
    await sleep(first.msLeft + 50);
    const afterWindow = await countRequest(database.db, 'windowed', WINDOW_MS);

    expect([first.hits, second.hits, afterWindow.hits]).toEqual([1, 2, 1]);
    expect(first.msLeft).toBeGreaterThan(0);
    expect(first.msLeft).toBeLessThanOrEqual(WINDOW_MS);
    expect(second.msLeft).toBeLessThanOrEqual(first.msLeft);
  });
});
