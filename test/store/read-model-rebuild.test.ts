import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { rebuildReadModel, type RebuildProgress } from '../../src/store/read-model-rebuild.js';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('rebuildReadModel', () => {
  it('rebuilds more cells than the lock table holds, in chunks, while readers keep their answers', async () => {
    const { rows: limits } = await sql<{ slots: number }>`
      select current_setting('max_locks_per_transaction')::int
             * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int) as slots`.execute(t.database.db);
    const lockSlots = limits[0]?.slots ?? 0;
    // One program whose milestones × consortiums make more cells than a lock apiece could take.
    const programId = uniqueId('big');
    const milestones = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const consortiums = Array.from({ length: Math.ceil(lockSlots / 100) + 5 }, () => uniqueId('c'));
    await record(t.app, programRegistered(programId), ...milestones.map((m) => milestonePlanned(programId, m, 'consortium', '2026-Q4')));
    for (let i = 0; i < consortiums.length; i += 20) {
      await record(t.app, ...consortiums.slice(i, i + 20).flatMap((c) => [consortiumRegistered(c), consortiumEnrolled(c, programId)]));
    }
    const [watched] = consortiums;
    await record(t.app, { type: 'milestone.started', occurredAt: '2026-05', data: { programId, milestone: 'm7', consortiumId: watched } });
    const before = await get(t.app, `/v1/consortiums/${watched}/status`);
    expect(before.status).toBe(200);

    const progress: RebuildProgress[] = [];
    let rebuilding = true;
    const rebuilt = rebuildReadModel(t.database.db, (p) => progress.push(p), 1000).finally(() => (rebuilding = false));
    const reads: { status: number; body: unknown; during: boolean }[] = [];
    while (rebuilding) {
      const response = await get(t.app, `/v1/consortiums/${watched}/status`);
      reads.push({ status: response.status, body: response.body, during: rebuilding });
    }
    const result = await rebuilt;

    const { rows: cells } = await sql<{ n: number }>`select count(*)::int as n from milestone_cell where program_id = ${programId}`.execute(t.database.db);
    expect(cells[0]?.n).toBe(milestones.length * consortiums.length);
    expect(cells[0]?.n).toBeGreaterThan(lockSlots);
    expect(result.cells).toBeGreaterThanOrEqual(milestones.length * consortiums.length);
    // In chunks: progress was reported more than once, and ends with every event.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)?.events).toBe(result.events);
    expect(reads.filter((r) => r.status !== 200 || JSON.stringify(r.body) !== JSON.stringify(before.body)).map((r) => ({ status: r.status, body: r.body }))).toEqual([]);
    // On a server, readers are answered while the rebuild runs; PGlite serves one connection at a time.
    if (t.database.concurrentTransactions) expect(reads.filter((r) => r.during).length).toBeGreaterThan(0);
    const after = await get(t.app, `/v1/consortiums/${watched}/status`);
    expect(after.body).toEqual(before.body);
  }, 300_000);

  it('keeps the tables\' autovacuum settings in the tables it puts in place', async () => {
    const settings = async () => {
      const { rows } = await sql<{ table: string; options: string[] | null }>`
        select relname as table, reloptions as options from pg_class
        where relnamespace = 'public'::regnamespace and relname in ('cell_step', 'cell_evidence') order by relname`.execute(t.database.db);
      return rows;
    };
    const before = await settings();
    expect(before.flatMap((r) => r.options ?? [])).toContain('autovacuum_vacuum_insert_scale_factor=0.01');
    await rebuildReadModel(t.database.db, () => undefined);
    expect(await settings()).toEqual(before);
  }, 300_000);

  it('answers asOf and knownAt after a rebuild whose chunks split an append out of world order, as before it', async () => {
    const programId = uniqueId('split');
    const cell = { programId, milestone: 'm-prog' };
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm-prog', 'program', '2030'));
    // One append, one recorded_at, its second fact earlier in world time than its first.
    const [started] = await record(
      t.app,
      { type: 'milestone.started', occurredAt: '2026-05-10', data: cell },
      { type: 'evaluation.held', occurredAt: '2026-05-05', data: cell },
    );
    await record(t.app, { type: 'evaluation.held', occurredAt: '2026-05-20', data: cell });
    const knownAt = new Date(new Date(started?.recordedAt ?? '').getTime() + 1).toISOString();
    const url = `/v1/programs/${programId}/milestones/m-prog?asOf=2026-05-15&knownAt=${knownAt}`;
    const before = await get(t.app, url);
    expect(before.status).toBe(200);

    // Chunks of one event: the cell is folded once per fact of that append, at the same recorded_at.
    await rebuildReadModel(t.database.db, () => undefined, 1);

    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from cell_step where program_id = ${programId} and known_from = known_to`.execute(t.database.db);
    // The first fold's version of the 2026-05-10 step, superseded as it was written: never believed.
    expect(rows[0]?.n).toBe(1);
    expect((await get(t.app, url)).body).toEqual(before.body);
  }, 120_000);
});
