import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { rebuildReadModel, type RebuildProgress } from '../../src/store/read-model-rebuild.js';
import { BUILT_AFTER_FOLD } from '../../src/store/rebuild-tables.js';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { feedPageOf, get, record } from '../support/http.js';
import { readModelRowsOf } from '../support/read-model-rows.js';
import { useTestApp } from '../support/test-app.js';
import { withoutJudgedAt } from '../support/views.js';

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
    // Each phase said as it starts, the vacuum and the index builds too (minutes each at 10M events).
    expect(progress.map((p) => p.phase).filter((phase, i, all) => phase !== all[i - 1])).toEqual(['read', 'fold', 'vacuum', 'index', 'catch-up', 'switch']);
    // The same answer but for judgedAt, the moment of each request (no asOf).
    expect(reads.filter((r) => r.status !== 200 || withoutJudgedAt(r.body) !== withoutJudgedAt(before.body)).map((r) => ({ status: r.status, body: r.body }))).toEqual([]);
    // On a server, readers are answered while the rebuild runs; PGlite serves one connection at a time.
    if (t.database.concurrentTransactions) expect(reads.filter((r) => r.during).length).toBeGreaterThan(0);
    const after = await get(t.app, `/v1/consortiums/${watched}/status`);
    expect(withoutJudgedAt(after.body)).toBe(withoutJudgedAt(before.body));
  }, 300_000);

  it("takes appends while it waits for the statements of a rebuild stopped meanwhile (kill -9) on the tables that rebuild left, and says it waits (PostgreSQL server only: PGlite runs one statement at a time)", async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('leftovers');
    await record(t.app, ...scenario.events);
    // What a stopped rebuild leaves: its schema, and a worker's statement still running on one of its tables.
    await sql`drop schema if exists ml_rebuild cascade`.execute(t.database.db);
    await sql`create schema ml_rebuild`.execute(t.database.db);
    await sql`create table ml_rebuild.cell_step (like public.cell_step)`.execute(t.database.db);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const leftover = t.database.db.transaction().execute(async (trx) => {
      await sql`lock table ml_rebuild.cell_step in access share mode`.execute(trx);
      locked();
      await released;
    });
    await isLocked;

    const progress: RebuildProgress[] = [];
    const rebuilt = rebuildReadModel(t.database.db, (p) => progress.push(p), 1000);
    try {
      await expect.poll(() => progress.map((p) => p.phase)).toContain('leftovers');
      const append = record(t.app, { type: 'milestone.started', occurredAt: '2026-05', data: { programId: scenario.programId, milestone: 'final-evaluation' } });
      const first = await Promise.race([append.then(() => 'appended'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
      expect(first).toBe('appended');
      expect(progress.map((p) => p.phase)).not.toContain('read');
    } finally {
      release();
      await leftover;
    }
    await rebuilt;

    // The rebuilt read model holds the append made while it waited.
    const milestone = await get(t.app, `/v1/programs/${scenario.programId}/milestones/final-evaluation`);
    expect(JSON.stringify(milestone.body)).toContain('in_progress');
  });

  it('keeps the feed showing events appended while its transactions run: a busy cell\'s fold, however long, holds back no reader (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    // A busy cell: facts in world-time order, then a few recorded late, each of which re-folds what follows it.
    const busy = programWithConsortium('busy');
    await record(t.app, ...busy.events);
    const cell = { programId: busy.programId, milestone: 'final-evaluation' };
    for (let day = 0; day < 2000; day += 500) {
      await record(t.app, ...Array.from({ length: 500 }, (_, n) => ({ type: 'evaluation.held', occurredAt: new Date(Date.UTC(2026, 0, 1) + (day + n) * 3_600_000).toISOString(), data: cell })));
    }
    for (let n = 0; n < 4; n++) await record(t.app, { type: 'evaluation.held', occurredAt: `2025-12-0${n + 1}`, data: cell });
    const watched = programWithConsortium('watched');
    await record(t.app, ...watched.events);

    let rebuilding = true;
    const rebuilt = rebuildReadModel(t.database.db, () => {}).finally(() => (rebuilding = false));
    // Each look: a transaction of the rebuild holding an id, an event appended after it began, then
    // both feeds read while that transaction still runs (else the look tells nothing, and is dropped).
    // At most 20, so that every event appended is on the first page of the watched program's events.
    const looks: { shownInEvents: boolean; shownInFeed: boolean }[] = [];
    while (rebuilding && looks.length < 20) {
      const { rows } = await sql<{ xid: string }>`
        select a.backend_xid::text as xid from pg_stat_activity a
        where a.datname = current_database() and a.backend_xid is not null and a.pid <> pg_backend_pid() and a.query like '%apply_to_cell%'
        limit 1`.execute(t.database.db);
      const xid = rows[0]?.xid;
      if (xid === undefined) {
        await sleep(5);
        continue;
      }
      const [appended] = await record(t.app, seminarHeld(watched.programId, `during ${xid}`));
      // Another writer of this database (a rate-limit lease taken for a request) may hold the feed back a moment: not the rebuild.
      await waitForFeedHorizon(t.database.db);
      const events = feedPageOf(await get(t.app, `/v1/events?programId=${watched.programId}&limit=100`));
      const feed = await get(t.app, `/v1/feed?programId=${watched.programId}&follow=false&limit=100`);
      const { rows: running } = await sql<{ still: boolean }>`
        select exists (select 1 from pg_stat_activity a where a.backend_xid::text = ${xid}) as still`.execute(t.database.db);
      if (running[0]?.still !== true) continue;
      looks.push({ shownInEvents: events.events.some((e) => e.id === appended?.id), shownInFeed: String(feed.body).includes(appended?.id ?? 'none') });
    }
    await rebuilt;

    expect(looks.length).toBeGreaterThan(0);
    expect(looks.filter((l) => !l.shownInEvents || !l.shownInFeed)).toEqual([]);
  }, 120_000);

  it('keeps the tables\' autovacuum settings in the tables it puts in place', async () => {
    const settings = async () => {
      const { rows } = await sql<{ table: string; options: string[] | null }>`
        select relname as table, reloptions as options from pg_class
        where relnamespace = 'public'::regnamespace and relname in ('cell_step', 'cell_evidence', 'cell_step_span') order by relname`.execute(t.database.db);
      return rows;
    };
    const before = await settings();
    expect(before.flatMap((r) => r.options ?? [])).toContain('autovacuum_vacuum_insert_scale_factor=0.01');
    await rebuildReadModel(t.database.db, () => undefined);
    expect(await settings()).toEqual(before);
  }, 300_000);

  it('puts in place every index of the live tables, under its name, and the tables\' statistics', async () => {
    const indexes = async () => {
      const { rows } = await sql<{ name: string; definition: string }>`
        select indexname as name, indexdef as definition from pg_indexes
        where schemaname = 'public' and tablename in ('cell_step', 'cell_evidence', 'milestone_cell', 'cell_step_span') order by indexname`.execute(t.database.db);
      return rows;
    };
    // Analyzed by an ANALYZE, not by autovacuum (on in some servers the tests run on): a new table has no statistics.
    const analyzed = async () => {
      const { rows } = await sql<{ table: string; analyzed: boolean }>`
        select relname as table, last_analyze is not null as analyzed from pg_stat_all_tables
        where schemaname = 'public' and relname in ('cell_step', 'cell_evidence') order by relname`.execute(t.database.db);
      return rows;
    };
    const { programId, consortiumId, events } = programWithConsortium('analyzed');
    await record(t.app, ...events, { type: 'milestone.started', occurredAt: '2026-05-01', data: { programId, milestone: 'defense-pilot', consortiumId } });
    const before = await indexes();
    // Built after the fold.
    expect(before.map((r) => r.name)).toEqual(expect.arrayContaining([...BUILT_AFTER_FOLD]));
    await rebuildReadModel(t.database.db, () => undefined);
    expect(await indexes()).toEqual(before);
    expect(await analyzed()).toEqual([
      { table: 'cell_evidence', analyzed: true },
      { table: 'cell_step', analyzed: true },
    ]);
  }, 300_000);

  it('puts its tables in place vacuumed, their pages all-visible, though its fold superseded steps', async () => {
    const { programId, consortiumId, events } = programWithConsortium('vacuumed');
    const fact = (occurredAt: string) => ({ type: 'pilot.started', occurredAt, data: { programId, milestone: 'defense-pilot', consortiumId } });
    const day = (i: number) => new Date(Date.UTC(2026, 1, 1) + i * 86_400_000).toISOString().slice(0, 10);
    await record(t.app, ...events, ...Array.from({ length: 400 }, (_, i) => fact(day(i))));
    // Late: the fold rewrites every step after it, leaving the versions it superseded dead.
    await record(t.app, fact('2026-01-15'));
    await rebuildReadModel(t.database.db, () => undefined);
    const { rows: superseded } = await sql<{ n: number }>`
      select count(*)::int as n from cell_step where program_id = ${programId} and known_to <> 'infinity'`.execute(t.database.db);
    expect(superseded[0]?.n).toBeGreaterThanOrEqual(400);
    const { rows } = await sql<{ table: string; pages: number; visible: number }>`
      select relname as table, relpages as pages, relallvisible as visible from pg_class
      where relnamespace = 'public'::regnamespace and relname in ('cell_step', 'cell_evidence') order by relname`.execute(t.database.db);
    expect(rows.map((r) => r.table)).toEqual(['cell_evidence', 'cell_step']);
    // Unvacuumed, no page is all-visible. One is allowed to stay unmarked: a vacuum skips pruning and
    // marking a page it cannot lock for cleanup, as when another process holds it for a moment.
    for (const r of rows) {
      expect(r.pages, r.table).toBeGreaterThan(3);
      expect(r.pages - r.visible, r.table).toBeLessThanOrEqual(1);
    }
  }, 300_000);

  it('writes the very rows the appends wrote: runs in world-time order, an append out of order, late facts, retractions, reschedules, a milestone for one consortium, a late enrolment, an elimination', async () => {
    const programId = uniqueId('rows');
    const [consortium, other] = [uniqueId('c'), uniqueId('c')];
    const cell = { programId, milestone: 'm-prog' };
    const pilot = { programId, milestone: 'm-pilot', consortiumId: consortium };
    await record(
      t.app,
      programRegistered(programId),
      milestonePlanned(programId, 'm-prog', 'program', '2030'),
      milestonePlanned(programId, 'm-pilot', 'consortium', '2030'),
      consortiumRegistered(consortium),
      consortiumRegistered(other),
      consortiumEnrolled(consortium, programId),
    );
    // One append whose second fact is earlier in world time than its first.
    await record(
      t.app,
      { type: 'milestone.started', occurredAt: '2026-05-10', data: cell },
      { type: 'evaluation.held', occurredAt: '2026-05-05', data: cell },
    );
    // A run of appends each later in world time than all before it.
    for (const day of ['20', '21', '22']) await record(t.app, { type: 'evaluation.held', occurredAt: `2026-05-${day}`, data: cell });
    await record(t.app, { type: 'pilot.started', occurredAt: '2026-06-01', data: pilot });
    // Late news, then a retraction of it, then an in-order fact again.
    const [late] = await record(t.app, { type: 'milestone.missed', occurredAt: '2026-05-15', data: cell });
    await record(t.app, { type: 'pilot.completed', occurredAt: '2026-05', data: pilot });
    // A late batch, then one in world-time order after it: a run that starts late.
    await record(t.app, { type: 'milestone.achieved', occurredAt: '2026-07-05', data: pilot });
    await record(t.app, { type: 'event.retracted', data: { eventId: late?.id ?? '', reason: 'wrong' } });
    await record(t.app, { type: 'evaluation.held', occurredAt: '2026-07-01', data: cell });
    // A milestone for one consortium only, rescheduled (and the reschedule retracted) before the
    // other consortium is enrolled: that one's cells are created from its enrolment, folding the
    // reschedules recorded until then; then it is eliminated.
    await record(t.app, {
      type: 'milestone.planned',
      occurredAt: '2025-07',
      data: { programId, milestone: 'm-only', title: 'Only one', scope: 'consortium', consortiums: [consortium] },
    });
    const [moved] = await record(t.app, { type: 'milestone.rescheduled', occurredAt: '2026-04', data: { programId, milestone: 'm-pilot', due: '2031' } });
    await record(t.app, { type: 'milestone.rescheduled', occurredAt: '2026-04-02', data: { programId, milestone: 'm-pilot', due: '2032' } });
    await record(t.app, { type: 'event.retracted', data: { eventId: moved?.id ?? '', reason: 'wrong' } });
    await record(t.app, consortiumEnrolled(other, programId));
    await record(t.app, { type: 'pilot.started', occurredAt: '2026-05-01', data: { programId, milestone: 'm-only', consortiumId: consortium } });
    await record(t.app, { type: 'consortium.eliminated', occurredAt: '2026-06-15', data: { consortiumId: other, programId } });

    const rows = () => readModelRowsOf(t.database.db, programId);
    const before = await rows();
    // The history supersedes steps (the late fact, the retraction), and folds runs: the rebuild must do both.
    const { rows: superseded } = await sql<{ n: number }>`
      select count(*)::int as n from cell_step where program_id = ${programId} and known_to <> 'infinity'`.execute(t.database.db);
    expect(superseded[0]?.n).toBeGreaterThan(0);
    // And the retraction of the reschedule ended its steps: the rebuild must end them too.
    const { rows: ended } = await sql<{ n: number }>`
      select count(*)::int as n from cell_step_span where program_id = ${programId} and died <> 'infinity'`.execute(t.database.db);
    expect(ended[0]?.n).toBeGreaterThan(0);
    // m-prog; m-pilot for both consortiums; m-only for the one it concerns.
    expect(before.cells).toHaveLength(4);

    // Chunks of one cell each, folded on two connections on a server.
    await rebuildReadModel(t.database.db, () => undefined, 10, t.database.concurrentTransactions ? 2 : 1);

    expect(await rows()).toEqual(before);
  }, 120_000);
});
