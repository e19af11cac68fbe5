import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, inject, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { migrateToLatest, pendingMigrations } from '../../db/migrator.js';
import { openDatabase } from '../../src/store/open-database.js';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import '../support/test-database-spec.js';

const MIGRATION_COUNT = Object.keys(await migrationProvider.getMigrations()).length;

describe('migrations', () => {
  it('apply once, and a second run finds nothing to do', async () => {
    const { db } = await openDatabase({ kind: 'pglite', dataDir: undefined });
    try {
      // Before any: every migration is pending, in name order (no migration table yet).
      expect(await pendingMigrations(db)).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
      const first = await migrateToLatest(db);
      const second = await migrateToLatest(db);

      expect(first.error).toBeUndefined();
      expect(first.results?.map((r) => r.status)).toEqual(Array(MIGRATION_COUNT).fill('Success'));
      expect(second.results).toEqual([]);
      expect(await pendingMigrations(db)).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('are safe when three instances start at once on an empty database', async () => {
    const instances = await startThreeInstances();
    try {
      const results = await Promise.all(instances.map(({ db }) => migrateToLatest(db)));

      expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined]);
      expect(results.flatMap((r) => r.results ?? []).filter((r) => r.status === 'Success')).toHaveLength(MIGRATION_COUNT);
      const db = instances[0]?.db;
      if (db === undefined) throw new Error('no instance');
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
      expect(rows).toEqual([{ n: MIGRATION_COUNT }]);
      expect(await pendingMigrations(db)).toEqual([]);
    } finally {
      await Promise.all(instances.map(({ db }) => db.destroy().catch(() => {})));
    }
  });
});

/**
 * Three services on one new database: three pools on a server, or, on PGlite (one process's own
 * database), three migrators racing on one instance.
 */
async function startThreeInstances() {
  const spec = inject('testDatabase');
  if (spec.kind === 'postgres') {
    const name = `${spec.prefix}_mig_${randomBytes(3).toString('hex')}`;
    await runAdmin(spec.adminUrl, `create database ${name}`);
    return Promise.all([1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: databaseUrl(spec.adminUrl, name), poolSize: 2 })));
  }
  const shared = await openDatabase({ kind: 'pglite', dataDir: undefined });
  return [shared, shared, shared];
}
