import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createKeyAuthenticator, revokeApiKey } from '../../src/services/api-keys.js';
import { UnauthenticatedError } from '../../src/domain/errors.js';
import { holdingResults } from '../support/held-results.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

describe('a key look-up in flight while the key is revoked on the same instance', () => {
  it('does not remember the key the revocation just forgot', async () => {
    if (database.url === undefined) {
      // The embedded database has one connection, which the held look-up keeps: the revocation could
      // not run beside it. The race needs a pool, as on a PostgreSQL server.
      expect(database.concurrentTransactions).toBe(false);
      return;
    }
    const key = await createApiKey(database.db, 'racy', 'reader');
    // Holds the result of the next look-up by hash until released: the row was read before the revocation.
    let reached: () => void = () => {};
    const lookupReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    const held = holdingResults(database.db, 'key_hash', async () => {
      if (!holding) return;
      holding = false;
      reached();
      await released;
    });
    const keys = createKeyAuthenticator(held, undefined, 60_000);

    const inFlight = keys.authenticate(`Bearer ${key.key}`);
    await lookupReached;
    // DELETE /v1/api-keys/{id} on this instance: revoke, then forget.
    await revokeApiKey(database.db, key.id);
    keys.forget(key.id);
    release();
    await inFlight; // concurrent with the revocation: either answer is fair

    // A request that starts after the revocation answered, on the instance that made it.
    await expect(keys.authenticate(`Bearer ${key.key}`)).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});
