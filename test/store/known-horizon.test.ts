import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledBefore } from '../../src/store/known-horizon.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

/** A moment `ms` milliseconds after 1970 and a fraction of one more, as the database reads it: in the past, in 2025, so that it is the earliest. */
const moment = (ms: bigint) => new Date(Number(ms)).toISOString().replace('Z', '700Z');

describe('what is settled in system time (db/functions/hold_recording_lock.sql, src/store/known-horizon.ts)', () => {
  it.each([
    ['with the low 32 bits of its milliseconds below 2^31', (409n << 32n) | 408_702_976n],
    ['with the high bit of its low 32 bits set (a sign to get right)', (409n << 32n) | 2_147_483_648n],
    ['with all of its low 32 bits set', (408n << 32n) | 4_294_967_295n],
  ])('reads a recording lock named by a moment %s back as that moment, to the millisecond rounded down', async (_name, ms) => {
    const settled = await database.db.transaction().execute(async (trx) => {
      await sql`select hold_recording_lock(${moment(ms)}::timestamptz)`.execute(trx);
      return (await settledBefore(trx)).settled;
    });

    expect(settled.getTime()).toBe(Number(ms));
  });

  it('does not take another two-key advisory lock for a recording lock', async () => {
    const found = await database.db.transaction().execute(async (trx) => {
      // Decoded as one, its keys would name a moment in January 1970.
      await sql`select pg_advisory_xact_lock_shared(1, 2)`.execute(trx);
      return settledBefore(trx);
    });

    expect(found.settled.getTime()).toBe(found.now.getTime());
  });
});
