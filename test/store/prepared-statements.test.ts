import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { DatabaseUnavailableError } from '../../src/domain/errors.js';
import type { Db } from '../../src/store/database.js';
import { PREPARED } from '../../src/store/prepared-statement.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * On a PostgreSQL server the service prepares the views' look-ups marked PREPARED
 * (src/store/prepared-statement.ts): each connection parses and plans a statement once and reuses
 * it, always under its generic plan (plan_cache_mode among the marked planner settings: left to
 * choose, PostgreSQL planned most of them again at every execution). One connection here, so that
 * the test reads the prepared statements of the very connection the views ran on.
 */
const t = useTestApp({ poolSize: 1 });

const Prepared = z.array(z.object({ statement: z.string(), generic_plans: z.coerce.number(), custom_plans: z.coerce.number() }));

async function programWithFacts() {
  const programId = uniqueId('prep');
  await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
  const fact = (day: string) => ({ type: 'evaluation.held', occurredAt: day, data: { programId, milestone: 'm' } });
  await record(t.app, ...['2026-01-01', '2026-02-01', '2026-03-01'].map(fact));
  return programId;
}

describe('prepared statements (PostgreSQL server only: the embedded database runs statements in-process)', () => {
  it("prepares a cut-off view's look-ups once per connection and reuses them, and only the statements marked for it", async () => {
    const programId = await programWithFacts();
    const knownAt = new Date().toISOString();
    const url = `/v1/programs/${programId}/milestones?asOf=2026-02-15&knownAt=${encodeURIComponent(knownAt)}`;
    const answers = [];
    for (let n = 0; n < 8; n++) answers.push(await get(t.app, url));
    expect((await get(t.app, '/v1/programs?limit=5')).status).toBe(200);
    expect((await get(t.app, `/v1/timeline?programId=${programId}&limit=5`)).status).toBe(200);
    expect((await get(t.app, `/v1/timeline?programId=${programId}&limit=5`)).status).toBe(200);
    expect((await get(t.app, `/v1/timeline?programId=${programId}&consortiumId=none-such&limit=5`)).status).toBe(404);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // The same answer every time, from the one generic plan.
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { rows } = await sql<unknown>`select statement, generic_plans, custom_plans from pg_prepared_statements`.execute(t.database.db);
    const prepared = Prepared.parse(rows);
    const cells = prepared.filter((p) => p.statement.includes('cell_step'));
    expect(cells).toHaveLength(1);
    expect({ generic: cells[0]?.generic_plans, custom: cells[0]?.custom_plans }).toEqual({ generic: 8, custom: 0 });
    // The program's definition and its milestones, read in the same statement as the cells.
    for (const table of ['from "program_entry"', 'from "milestone_entry"']) {
      const found = prepared.filter((p) => p.statement.includes(table) && p.statement.includes('cell_step'));
      expect(found, table).toHaveLength(1);
      expect({ generic: found[0]?.generic_plans, custom: found[0]?.custom_plans }, table).toEqual({ generic: 8, custom: 0 });
    }
    // A page of the program list, one walk of an index in code-point order whatever the page.
    const page = prepared.filter((p) => p.statement.includes('from "program_entry"') && !p.statement.includes('cell_step'));
    expect(page.map((p) => ({ generic: p.generic_plans, custom: p.custom_plans }))).toEqual([{ generic: 1, custom: 0 }]);
    // A page of one program's timeline: one walk of its world-order index, the same plan twice.
    const timeline = prepared.filter((p) => p.statement.includes('from "event"') && p.statement.includes('"retraction"'));
    expect(timeline.map((p) => ({ generic: p.generic_plans, custom: p.custom_plans }))).toEqual([{ generic: 2, custom: 0 }]);
    // One of a program and a consortium both, or anything else unmarked, is planned for its parameters each time.
    expect(prepared.filter((p) => !p.statement.endsWith('/* prepared */')).map((p) => p.statement)).toEqual([]);
  });

  it('prepares no timeline scan run in a transaction: a page read again in one snapshot is planned for its parameters', async () => {
    const programId = uniqueId('prep-tx');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
    const knownAt = new Date().toISOString();
    // Recorded after knownAt and earlier in world time: a page at knownAt passes over them, its
    // first scan falls short, and the page is read again in a transaction.
    const fact = (day: string) => ({ type: 'evaluation.held', occurredAt: day, data: { programId, milestone: 'm' } });
    await record(t.app, ...['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04', '2025-01-05', '2025-01-06'].map(fact));
    const url = `/v1/timeline?programId=${programId}&limit=2&knownAt=${encodeURIComponent(knownAt)}`;

    const pages = [await get(t.app, url), await get(t.app, url)];

    expect(pages.map((p) => p.status)).toEqual([200, 200]);
    expect(z.object({ events: z.array(z.object({ type: z.string() })) }).parse(pages[0]?.body).events.map((e) => e.type)).toEqual([
      'program.registered',
      'milestone.planned',
    ]);
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { rows } = await sql<unknown>`select statement, generic_plans, custom_plans from pg_prepared_statements`.execute(t.database.db);
    const scans = Prepared.parse(rows).filter((p) => p.statement.includes('"retraction"') && p.statement.includes('e.recorded_at <'));
    // The first scan of each page, outside a transaction, under its generic plan; none of the scans in the transactions.
    expect(scans.map((p) => ({ generic: p.generic_plans, custom: p.custom_plans }))).toEqual([{ generic: 2, custom: 0 }]);
  });

  it('runs a statement again unnamed, and then closes its connection, when a table changed its columns under it; in a transaction, fails as "database unavailable"', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const db = t.database.db;
    const url = t.database.url;
    await sql`create table prepared_probe (id integer)`.execute(db);
    await sql`insert into prepared_probe values (1)`.execute(db);
    const readAll = (on: Db = db) => sql<Record<string, unknown>>`select * from prepared_probe ${PREPARED}`.execute(on).then((r) => r.rows);
    const backend = async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]?.pid;
    // What a migration run by another instance would do to a table the statement reads every column of.
    const migrate = async (ddl: string) => {
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      await other.query(ddl);
      await other.end();
    };

    expect(await readAll()).toEqual([{ id: 1 }]);
    const before = await backend();
    await migrate('alter table prepared_probe add column note text');
    expect(await readAll()).toEqual([{ id: 1, note: null }]);
    const after = await backend();
    expect(after).not.toBe(before);
    expect(await readAll()).toEqual([{ id: 1, note: null }]);

    await migrate('alter table prepared_probe add column more text');
    const failed = await db
      .transaction()
      .execute((trx) => readAll(trx))
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failed).toBeInstanceOf(DatabaseUnavailableError);
    expect(await readAll()).toEqual([{ id: 1, note: null, more: null }]);
    expect(await backend()).not.toBe(after);
  });
});
