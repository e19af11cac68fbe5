import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { migrateToLatest } from '../../db/migrator.js';
import { viewProgram } from '../../src/services/status-views.js';
import { openDatabase } from '../../src/store/open-database.js';

/*
 * A database that already holds events when the read-model migration arrives (an upgrade): the
 * migrator rebuilds the read model from the log, and the views answer from it.
 */

const BEFORE_READ_MODEL = '2026-11-22T20-00-00_create_rate_limit_windows';

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
      const { rows } = await sql<{ pending: boolean }>`select rebuild_pending as pending from read_model_status`.execute(db);
      expect(rows).toEqual([{ pending: false }]);
    } finally {
      await db.destroy();
    }
  });
});
