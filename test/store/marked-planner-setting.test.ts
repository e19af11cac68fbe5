import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { MARKED_PLANNER_SETTINGS, PREPARED } from '../../src/store/prepared-statement.js';
import { useTestApp } from '../support/test-app.js';

/*
 * The views' marked statements are planned without sorts, JIT or parallel workers, and on a
 * generic plan (MARKED_PLANNER_SETTINGS, src/store/prepared-statement.ts says why); every other
 * statement under the server's own settings. One connection, so that each statement runs on the
 * connection the one before left.
 */
const t = useTestApp({ poolSize: 1 });

const names = MARKED_PLANNER_SETTINGS.map((s) => s.name);
const marked = MARKED_PLANNER_SETTINGS.map((s) => s.value);
const read = () => sql.raw(`select array[${names.map((n) => `current_setting('${n}')`).join(', ')}] as settings`);
const settingsMarked = (db: Db) =>
  sql<{ settings: string[] }>`${read()} ${PREPARED}`.execute(db).then((r) => r.rows[0]?.settings);
const settingsUnmarked = (db: Db) => sql<{ settings: string[] }>`${read()}`.execute(db).then((r) => r.rows[0]?.settings);

describe('the planner settings of marked statements (PostgreSQL server only: the embedded database plans as it always does)', () => {
  it('plans a marked statement under them, and the next unmarked statement, or a transaction and all its statements, under the server settings', async () => {
    const db = t.database.db;
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const server = await settingsUnmarked(db);
    // Sorts are on by default: the server's settings and the marked ones differ.
    expect(server?.[names.indexOf('enable_sort')]).toBe('on');
    expect(await settingsMarked(db)).toEqual(marked);
    expect(await settingsMarked(db)).toEqual(marked);
    expect(await settingsUnmarked(db)).toEqual(server);
    expect(await settingsMarked(db)).toEqual(marked);
    const inTransaction = await db.transaction().execute(async (trx) => [await settingsMarked(trx), await settingsUnmarked(trx)]);
    expect(inTransaction).toEqual([server, server]);
    expect(await settingsMarked(db)).toEqual(marked);
    // A transaction rolled back leaves the server settings too, and the connection's state known.
    await expect(
      db.transaction().execute(async (trx) => {
        expect(await settingsMarked(trx)).toEqual(server);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await settingsUnmarked(db)).toEqual(server);
    expect(await settingsMarked(db)).toEqual(marked);
  });
});
