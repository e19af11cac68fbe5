import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { record } from '../support/http.js';
import { rowsReadToAppend, sequentialScansToAppend } from '../support/append-reads.js';
import { useTestApp } from '../support/test-app.js';

/*
 * The projection's functions keep their plans for the life of a connection (force_generic_plan),
 * planned from the statistics of the moment. Statistics taken while a table was empty, and never
 * taken again (a server without autovacuum, or a manual ANALYZE on a new database), must not turn
 * a look-up by key into a scan of the table that grows with the history: on a server run that way,
 * appends took seconds at 200,000 events, scanning `retraction` in every fold.
 */

// One connection: the plans the append below uses are those cached after the ANALYZE.
const t = useTestApp({ poolSize: 1 });
const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();

describe('the projection with statistics taken while its tables were empty', () => {
  it('re-folds a late fact by key, without scanning retraction, cell_evidence or the log, however many rows they hold now', async () => {
    const db = t.database.db;
    for (const table of ['retraction', 'event', 'cell_step', 'cell_evidence', 'milestone_cell', 'milestone_entry']) {
      await sql.raw(`alter table ${table} set (autovacuum_enabled = off)`).execute(db);
    }
    const programId = uniqueId('plans');
    const cell = { programId, milestone: 'm-1' };
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm-1', 'program', '2030'));
    await record(t.app, ...Array.from({ length: 20 }, (_, n) => ({ type: 'evaluation.held', occurredAt: minute(10 * n), data: cell })));
    const { rows: retractions } = await sql<{ n: number }>`select count(*)::int as n from retraction`.execute(db);
    expect(retractions[0]?.n).toBe(0);
    // Statistics now: retraction empty; and the plans the appends below cache are made from them.
    await sql`analyze`.execute(db);
    // A late fact re-folds the twenty steps after it: each of their events is checked for a retraction.
    const before = await rowsReadToAppend(db, [{ type: 'evaluation.held', occurredAt: minute(5), data: cell }]);

    // Then the tables grow, with nothing to take their statistics again.
    const other = { programId, milestone: 'm-2' };
    await record(t.app, milestonePlanned(programId, 'm-2', 'program', '2030'));
    const facts = await record(t.app, ...Array.from({ length: 400 }, (_, n) => ({ type: 'evaluation.held', occurredAt: minute(n), data: other })));
    await record(t.app, ...facts.map((f) => ({ type: 'event.retracted', data: { eventId: f.id, reason: 'wrong' } })));
    const others = Array.from({ length: 100 }, (_, n) => `${programId}-${n}`);
    await record(t.app, ...others.flatMap((p) => [programRegistered(p), milestonePlanned(p, 'm-1', 'program', '2030'), milestonePlanned(p, 'm-2', 'consortium', '2030')]));

    // The same late fact again, one step more to re-fold: about the same reads, not 400 more.
    const scans = await sequentialScansToAppend(db, [{ type: 'evaluation.held', occurredAt: minute(4), data: cell }]);
    const after = await rowsReadToAppend(db, [{ type: 'evaluation.held', occurredAt: minute(3), data: cell }]);
    const growing = ['retraction', 'event', 'cell_step', 'cell_evidence', 'milestone_cell', 'milestone_entry', 'notification'];
    expect(Object.keys(scans).filter((table) => growing.includes(table)), JSON.stringify(scans)).toEqual([]);
    expect(after, JSON.stringify({ before, after })).toBeLessThan(before + 50);
  }, 120_000);
});
