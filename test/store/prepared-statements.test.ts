import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { DatabaseUnavailableError } from '../../src/domain/errors.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * On a PostgreSQL server the service prepares its statements (src/store/callback-query-pool.ts):
 * each connection parses and plans a statement once, and keeps a generic plan where PostgreSQL
 * finds one as good. One connection here, so that the test reads the prepared statements of the
 * very connection the views ran on.
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
  it('plans a cut-off view once per connection and then reuses a generic plan', async () => {
    const programId = await programWithFacts();
    const knownAt = new Date().toISOString();
    const url = `/v1/programs/${programId}/milestones?asOf=2026-02-15&knownAt=${encodeURIComponent(knownAt)}`;
    const answers = [];
    for (let n = 0; n < 8; n++) answers.push(await get(t.app, url));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // The same answer from the custom plans of the first executions and the generic one after.
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const { rows } = await sql<unknown>`select statement, generic_plans, custom_plans from pg_prepared_statements`.execute(t.database.db);
    const cells = Prepared.parse(rows).filter((p) => p.statement.includes('cell_step'));
    expect(cells).toHaveLength(1);
    expect(cells[0]?.custom_plans).toBeLessThanOrEqual(5);
    expect(cells[0]?.generic_plans).toBeGreaterThanOrEqual(3);
  });

  it('closes a connection whose prepared statement a change of columns made stale: one statement fails as "database unavailable", the next runs', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const db = t.database.db;
    await sql`create table prepared_probe (id integer)`.execute(db);
    await sql`insert into prepared_probe values (1)`.execute(db);
    const readAll = () => sql<Record<string, unknown>>`select * from prepared_probe`.execute(db);
    expect((await readAll()).rows).toEqual([{ id: 1 }]);
    // What a migration run by another instance would do to a table the statement reads every column of.
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    await other.query('alter table prepared_probe add column note text');
    await other.end();

    const stale = await readAll().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(stale).toBeInstanceOf(DatabaseUnavailableError);
    expect(stale).toMatchObject({ querySent: false });
    // The connection that held the stale plan was closed: the pool's next one prepares it afresh.
    expect((await readAll()).rows).toEqual([{ id: 1, note: null }]);
    expect((await readAll()).rows).toEqual([{ id: 1, note: null }]);
  });
});
