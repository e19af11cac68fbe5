import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * The planner's estimate of a cell's rows. Taken as independent, the key's three columns give any
 * cell of a store of many programs and consortiums about one row; then an index that holds the
 * steps in another order looks as cheap as the one in world order, and on a 1M history the state
 * at asOf of the busy matrix was found by reading and sorting each cell's every current step
 * (22–39 ms p50 against 7–8). Extended statistics on the key (migration 2026-12-03T08-00-00) give the
 * planner the rows a cell holds on average. The plan itself turns on the indexes' sizes, which only
 * a large store has: this checks the estimate it rests on.
 */

const t = useTestApp();

const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
const PROGRAMS = 300;
const BUSY_STEPS = 3000;

describe('cell estimates', () => {
  it('expects a cell of a store of hundreds of programs and consortiums to hold the steps a cell holds on average, not one', async () => {
    // Hundreds of programs, each with a consortium of its own and a cell of a few facts.
    const small = Array.from({ length: PROGRAMS }, () => ({ programId: uniqueId('p'), consortium: uniqueId('c') }));
    for (let from = 0; from < PROGRAMS; from += 50) {
      await record(
        t.app,
        ...small.slice(from, from + 50).flatMap(({ programId, consortium }) => [
          programRegistered(programId),
          milestonePlanned(programId, 'm', 'consortium', '2030'),
          consortiumRegistered(consortium),
          consortiumEnrolled(consortium, programId),
          ...[1, 2, 3].map((n) => ({ type: 'evaluation.held', occurredAt: minute(n), data: { programId, milestone: 'm', consortiumId: consortium } })),
        ]),
      );
    }
    const busy = { programId: uniqueId('busy'), consortium: uniqueId('c') };
    await record(
      t.app,
      programRegistered(busy.programId),
      milestonePlanned(busy.programId, 'm', 'consortium', '2030'),
      consortiumRegistered(busy.consortium),
      consortiumEnrolled(busy.consortium, busy.programId),
    );
    for (let from = 0; from < BUSY_STEPS; from += 1000) {
      await record(
        t.app,
        ...Array.from({ length: 1000 }, (_, k) => ({
          type: 'evaluation.held',
          occurredAt: minute(from + k),
          data: { programId: busy.programId, milestone: 'm', consortiumId: busy.consortium },
        })),
      );
    }
    await sql`analyze`.execute(t.database.db);

    // What the planner expects a cell to hold when it plans a view, which does not know the cell's
    // key yet (a generic plan, or a look-up per cell of a matrix).
    const expected = await expectedRowsOfACell();
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from cell_step`.execute(t.database.db);
    const cells = PROGRAMS + 1;
    // The steps a cell holds on average: about 15. Taken as independent, the three columns give
    // 4,500 / (301 × 1 × 301): under one.
    expect(expected, JSON.stringify({ expected, steps: rows[0]?.n })).toBeGreaterThanOrEqual((rows[0]?.n ?? 0) / cells / 4);
  }, 300_000);
});

async function expectedRowsOfACell(): Promise<number> {
  return t.database.db.transaction().execute(async (trx) => {
    await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
    await sql`prepare ml_cell_rows (text, text, text) as
      select * from cell_step where program_id = $1 and milestone = $2 and consortium_id = $3`.execute(trx);
    const { rows } = await sql<Record<string, unknown>>`explain (format json) execute ml_cell_rows ('p', 'm', 'c')`.execute(trx);
    await sql`deallocate ml_cell_rows`.execute(trx);
    // The plan as JSON text or parsed, as the driver gives it.
    return Number(/"Plan Rows\\?":\s*(\d+)/.exec(JSON.stringify(rows[0]))?.[1] ?? NaN);
  });
}
