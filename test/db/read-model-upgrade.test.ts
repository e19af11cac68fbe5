import type { FastifyInstance } from 'fastify';
import { Migrator, sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { applyFunctions } from '../../db/functions.js';
import { migrateToLatest } from '../../db/migrator.js';
import { PROJECTION_LOCK } from '../../src/store/projection-lock.js';
import { viewProgram } from '../../src/services/status-views.js';
import type { Db } from '../../src/store/database.js';
import { openDatabase } from '../../src/store/open-database.js';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { record } from '../support/http.js';
import { comparable, cutQuery, justBefore, referenceMatrix, type Cut } from '../support/reference-views.js';
import { startTestApp } from '../support/test-app.js';
import { matrix } from '../support/views.js';

/*
 * A database that already holds events when the read-model migration arrives (an upgrade): the
 * migrator rebuilds the read model from the log, and the views answer from it. A database that
 * already holds the read model when the cells' evidence column arrives has it filled by that
 * migration, without a rebuild. When the steps' evidence arrives, a rebuild fills it, and appends
 * in the meantime fold on the steps written before it as before.
 */

const BEFORE_READ_MODEL = '2026-11-22T20-00-00_create_rate_limit_windows';
const KEEP_CELL_EVIDENCE = '2026-12-01T18-00-00_keep_cell_evidence';
const BEFORE_KEEP_CELL_EVIDENCE = '2026-12-01T15-00-00_create_bitemporal_read_model';
const CREATE_CELL_EVIDENCE = '2026-12-01T20-00-00_create_cell_evidence';
const BEFORE_CREATE_CELL_EVIDENCE = '2026-12-01T18-30-00_cover_cell_evidence';
const KEEP_EVIDENCE_ON_STEPS = '2026-12-04T08-00-00_keep_evidence_on_steps';
const BEFORE_KEEP_EVIDENCE_ON_STEPS = '2026-12-02T18-00-00_index_current_steps_by_writing';
const KEEP_STEP_SPANS = '2026-12-04T17-00-00_keep_step_spans';
const BEFORE_KEEP_STEP_SPANS = KEEP_EVIDENCE_ON_STEPS;

/** `count` facts on the cell of `data`, one a day from 2 January 2026, the two types in turn. */
const dailyFacts = (data: { programId: string; milestone: string }, count: number, types: readonly [string, string]) =>
  Array.from({ length: count }, (_, n) => ({ type: types[n % 2], occurredAt: `2026-01-${String(n + 2).padStart(2, '0')}`, data }));

/** A program with one program-scope milestone, m, planned: the cell the tests record facts on. */
async function plannedCell(app: FastifyInstance): Promise<{ programId: string; data: { programId: string; milestone: string } }> {
  const programId = uniqueId('upgrade');
  await record(app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
  return { programId, data: { programId, milestone: 'm' } };
}

/** Whether a migration has asked for a rebuild that has not switched in new tables yet. */
async function rebuildPending<DB>(db: Kysely<DB>): Promise<boolean | undefined> {
  const { rows } = await sql<{ pending: boolean }>`select rebuild_pending as pending from read_model_status`.execute(db);
  return rows[0]?.pending;
}

/** The program's matrix at each cut is the reference model's. */
async function expectReferenceAt(app: FastifyInstance, db: Db, programId: string, cuts: readonly Cut[]): Promise<void> {
  for (const cut of cuts) {
    expect(comparable(await matrix(app, programId, cutQuery(cut))), JSON.stringify(cut)).toEqual(await referenceMatrix(db, programId, cut, new Date()));
  }
}

describe('upgrading to the read model', () => {
  it('rebuilds the read model from a log written before it existed, so the views show that history', async () => {
    const { db } = await openDatabase({ kind: 'pglite', dataDir: undefined });
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo(BEFORE_READ_MODEL)).error).toBeUndefined();
      const events: [string, string, string, object, string | null, string | null][] = [
        ['program.registered', 'program:p', '2025', { programId: 'p', name: 'P' }, 'p', null],
        ['milestone.planned', 'program:p', '2025', { programId: 'p', milestone: 'm', title: 'M', scope: 'program', due: '2026-06' }, 'p', 'm'],
        ['milestone.achieved', 'program:p', '2026-05', { programId: 'p', milestone: 'm' }, 'p', 'm'],
      ];
      let version = 0;
      for (const [type, stream, occurred, data, programId, milestone] of events) {
        version += 1;
        await sql`
          insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
                             occurred_start, occurred_end, data, metadata, program_id, milestone)
          values (gen_random_uuid(), ${type}, 1, ${stream}, ${version}, ${occurred}, ${occurred.length === 4 ? 'year' : 'month'},
                  ${occurred.length === 4 ? `${occurred}-01-01` : `${occurred}-01`}::timestamptz,
                  ${occurred.length === 4 ? '2026-01-01' : '2026-06-01'}::timestamptz,
                  ${JSON.stringify(data)}::jsonb, '{"actor": "old", "requestId": "old"}'::jsonb, ${programId}, ${milestone})`.execute(db);
      }

      const migrated = await migrateToLatest(db);
      const view = await viewProgram(db, 'p', { worldBefore: undefined, knownBefore: undefined }, new Date('2026-12-01'));

      expect(migrated.error).toBeUndefined();
      expect(view.milestones.map((m) => ({ milestone: m.milestone, cells: m.cells.map((c) => [c.status, c.since.value, c.evidenceCount]) }))).toEqual([
        { milestone: 'm', cells: [['achieved', '2026-05', 1]] },
      ]);
      expect(await rebuildPending(db)).toBe(false);
    } finally {
      await db.destroy();
    }
  });

  it('fills the evidence relation from the timelines an upgraded database holds: its cut-off views answer as before', async () => {
    const { app, database, close } = await startTestApp();
    try {
      const { db } = database;
      const { programId, data } = await plannedCell(app);
      const facts = await record(app, ...dailyFacts(data, 6, ['evaluation.held', 'milestone.started']));
      // A late fact rewrites the steps after it; a retraction takes one back.
      const [late] = await record(app, { type: 'milestone.achieved', occurredAt: '2026-01-03', data });
      const [retraction] = await record(app, { type: 'event.retracted', data: { eventId: facts[4]?.id, reason: 'wrong' } });
      const undone = await new Migrator({ db, provider: migrationProvider }).migrateTo(BEFORE_CREATE_CELL_EVIDENCE);
      expect(undone.error).toBeUndefined();
      // Every migration from CREATE_CELL_EVIDENCE on, the latest first, and no other.
      const later = Object.keys(await migrationProvider.getMigrations())
        .filter((name) => name > BEFORE_CREATE_CELL_EVIDENCE)
        .sort();
      expect(later[0]).toBe(CREATE_CELL_EVIDENCE);
      expect(undone.results?.map((r) => r.migrationName)).toEqual(later.reverse());

      const migrated = await migrateToLatest(db);
      expect(migrated.error).toBeUndefined();
      const cuts: Cut[] = [
        {},
        { knownAt: facts.at(-1)?.recordedAt },
        { knownAt: late?.recordedAt },
        { knownAt: retraction?.recordedAt },
        { asOf: '2026-01-05' },
        { asOf: '2026-01-06', knownAt: late?.recordedAt },
      ];
      await expectReferenceAt(app, db, programId, cuts);
      const before = comparable(await matrix(app, programId, cutQuery({ knownAt: late?.recordedAt })));
      expect(before[0]?.cells[0]?.evidence).toContain(facts[4]?.id);
    } finally {
      await close();
    }
  });

  it('fills the evidence the cells of an upgraded database already hold, without a rebuild', async () => {
    const { app, database, close } = await startTestApp();
    try {
      const { db } = database;
      const { programId, data } = await plannedCell(app);
      // More evidence than a cell shows, a late fact among it, and a retraction: what a re-fold leaves.
      const facts = await record(app, ...dailyFacts(data, 24, ['milestone.started', 'evaluation.held']));
      await record(app, { type: 'milestone.achieved', occurredAt: '2026-01-10', data });
      await record(app, { type: 'event.retracted', data: { eventId: facts[20]?.id, reason: 'wrong' } });
      // The database as the previous release left it: the same read model, without the column (the
      // migrations from KEEP_CELL_EVIDENCE on undone, the latest first).
      const undone = await new Migrator({ db, provider: migrationProvider }).migrateTo(BEFORE_KEEP_CELL_EVIDENCE);
      expect(undone.error).toBeUndefined();
      expect(undone.results?.map((r) => r.migrationName).at(-1)).toBe(KEEP_CELL_EVIDENCE);

      // Up to the migration before the steps' evidence, which asks for a rebuild: this one fills.
      const migrated = await new Migrator({ db, provider: migrationProvider }).migrateTo(BEFORE_KEEP_EVIDENCE_ON_STEPS);
      const view = comparable(await matrix(app, programId));

      expect(migrated.error).toBeUndefined();
      expect(view).toEqual(await referenceMatrix(db, programId, {}, new Date()));
      expect(view[0]?.cells[0]?.evidence).toHaveLength(20);
      expect(await rebuildPending(db)).toBe(false);
      expect((await migrateToLatest(db)).error).toBeUndefined();
    } finally {
      await close();
    }
  });

  it('folds a late fact and a retraction on the steps written before they kept their evidence, until the rebuild that fills it', async () => {
    const { app, database, close } = await startTestApp();
    try {
      const { db } = database;
      const { programId, data } = await plannedCell(app);
      const facts = await record(app, ...dailyFacts(data, 24, ['milestone.started', 'evaluation.held']));
      // The database as the previous release left it, then the migration, with the functions that
      // go with it, and no rebuild yet: every step holds an empty list. The functions are today's,
      // which need the migrations after it too (KEEP_STEP_SPANS, which asks for no rebuild), as an
      // upgrade from before it to today runs them, in the same window before the rebuild.
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo(BEFORE_KEEP_EVIDENCE_ON_STEPS)).error).toBeUndefined();
      expect((await migrator.migrateTo(KEEP_EVIDENCE_ON_STEPS)).error).toBeUndefined();
      expect((await migrator.migrateTo(KEEP_STEP_SPANS)).error).toBeUndefined();
      await applyFunctions(db);
      expect(await rebuildPending(db)).toBe(true);

      // What an instance of the previous release may append while the rebuild runs: a retraction,
      // then a late fact before it, each re-folding from a step written before the migration, which
      // must bring the latest evidence ids up to it: 20 for the retraction's (2026-01-21), 8 for the
      // late fact's (2026-01-09).
      const [retraction] = await record(app, { type: 'event.retracted', data: { eventId: facts[20]?.id, reason: 'wrong' } });
      const [late] = await record(app, { type: 'milestone.achieved', occurredAt: '2026-01-10', data });
      const now = comparable(await matrix(app, programId));
      expect(now).toEqual(await referenceMatrix(db, programId, {}, new Date()));
      expect(now[0]?.cells[0]?.evidence).toHaveLength(20);

      // The rebuild then fills every version, and the cut-off views answer from them.
      expect((await migrateToLatest(db)).error).toBeUndefined();
      const cuts: Cut[] = [{}, { knownAt: late?.recordedAt }, { knownAt: retraction?.recordedAt }, { asOf: '2026-01-20' }, { asOf: '2026-01-20', knownAt: late?.recordedAt }];
      await expectReferenceAt(app, db, programId, cuts);
    } finally {
      await close();
    }
  });

  it("fills the steps' spans from the timelines an upgraded database holds, without a rebuild: its cut-off views answer as before, and after a retraction", async () => {
    const { app, database, close } = await startTestApp();
    try {
      const { db } = database;
      const { programId, data } = await plannedCell(app);
      const facts = await record(app, ...dailyFacts(data, 24, ['milestone.started', 'evaluation.held']));
      // A late fact writes every step after it again; a retraction ends one.
      const [late] = await record(app, { type: 'milestone.achieved', occurredAt: '2026-01-10', data });
      const [retraction] = await record(app, { type: 'event.retracted', data: { eventId: facts[20]?.id, reason: 'wrong' } });
      const spans = async () =>
        (await sql`select * from cell_step_span where program_id = ${programId} order by v_start, v_position`.execute(db)).rows;
      // What the folds wrote, which the migration's fill must give again from the steps alone.
      const written = await spans();
      const migrator = new Migrator({ db, provider: migrationProvider });
      const undone = await migrator.migrateTo(BEFORE_KEEP_STEP_SPANS);
      expect(undone.error).toBeUndefined();
      expect(undone.results?.map((r) => r.migrationName).at(-1)).toBe(KEEP_STEP_SPANS);

      const migrated = await migrateToLatest(db);
      expect(migrated.error).toBeUndefined();
      expect(await rebuildPending(db)).toBe(false);
      expect(await spans()).toEqual(written);
      const { rows } = await sql<{ steps: number; ended: number }>`
        select count(*)::int as steps, count(*) filter (where died <> 'infinity')::int as ended
        from cell_step_span where program_id = ${programId}`.execute(db);
      // The plan, 24 facts and the late one; the retracted fact's step ended.
      expect(rows[0]).toEqual({ steps: 26, ended: 1 });
      const cuts: Cut[] = [
        { asOf: '2026-01-20', knownAt: late?.recordedAt },
        { asOf: '2026-01-22', knownAt: justBefore(late?.recordedAt) },
        { asOf: '2026-01-23', knownAt: retraction?.recordedAt },
        { asOf: '2026-01-23', knownAt: justBefore(retraction?.recordedAt) },
      ];
      await expectReferenceAt(app, db, programId, cuts);
      // Appends after the migration keep the spans: another retraction, then the cuts again and after it.
      const [second] = await record(app, { type: 'event.retracted', data: { eventId: facts[2]?.id, reason: 'wrong' } });
      await expectReferenceAt(app, db, programId, [...cuts, { asOf: '2026-01-05', knownAt: second?.recordedAt }, { asOf: '2026-01-05', knownAt: justBefore(second?.recordedAt) }]);
    } finally {
      await close();
    }
  });

  it('waits for an append in flight before it migrates and applies the functions that go with the migrations', async () => {
    const { app, database, close } = await startTestApp();
    try {
      const { db } = database;
      if (database.url === undefined) {
        // The embedded database has one connection: nothing runs beside a migration there.
        expect(database.concurrentTransactions).toBe(false);
        return;
      }
      const programId = uniqueId('locked');
      await record(app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
      // A database whose functions are not known to be this release's (no digest): one already
      // holding them is left as it is, without the lock (test/db/migrations.test.ts).
      await sql`drop function applied_functions_digest()`.execute(db);
      // An append in flight holds the projection lock shared from its first step (lock_projection.sql).
      let settled = false;
      const migrated = await db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock_shared(${PROJECTION_LOCK})`.execute(trx);
        const running = migrateToLatest(db).finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(settled).toBe(false);
        return { running };
      });

      expect((await migrated.running).error).toBeUndefined();
      expect(settled).toBe(true);
    } finally {
      await close();
    }
  });
});
