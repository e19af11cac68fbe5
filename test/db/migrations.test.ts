import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { appliedFunctionsDigest, functionsDigest } from '../../db/functions.js';
import { migrationProvider } from '../../db/migrations.js';
import { migrateToLatest, NewerDatabaseError, pendingMigrations } from '../../db/migrator.js';
import type { Db } from '../../src/store/database.js';
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

  it('refuses a database a newer release has migrated, naming the migrations it does not know, and changes nothing', async () => {
    const { db } = await openDatabase({ kind: 'pglite', dataDir: undefined });
    try {
      expect((await migrateToLatest(db)).error).toBeUndefined();
      await sql`insert into kysely_migration (name, timestamp) values ('2099-01-01T00-00-00_a_later_release', now())`.execute(db);
      // The next release's functions, as far as this one can tell.
      await sql`drop function applied_functions_digest()`.execute(db);

      const refused = await migrateToLatest(db);

      expect(refused.error).toBeInstanceOf(NewerDatabaseError);
      expect(refused.error instanceof Error ? refused.error.message : '').toMatch(
        /^this database has been migrated by a newer release of milestone-ledger \(2099-01-01T00-00-00_a_later_release: unknown to this release\); run that release or a later one\./,
      );
      // It wrote no function of its own over the newer release's.
      expect(await appliedFunctionsDigest(db)).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });

  it('starts on a database that applied migrations since withdrawn from the code, undoing what they left and forgetting them', async () => {
    const { db } = await oneInstance();
    try {
      expect((await migrateToLatest(db)).error).toBeUndefined();
      // What the two withdrawn migrations left on a database of a release between 15d5e8c's and 2b9e470's parents.
      await sql`create statistics cell_step_cell (dependencies) on program_id, milestone, consortium_id from cell_step`.execute(db);
      // As a rebuild by such a release left it: copied under a name of its own, in another schema.
      await sql`create schema if not exists ml_withdrawn_test`.execute(db);
      await sql`create statistics ml_withdrawn_test.cell_evidence_program_id_milestone_consortium_id_stat (dependencies) on program_id, milestone, consortium_id from cell_evidence`.execute(db);
      await sql`insert into kysely_migration (name, timestamp) values
        ('2026-12-03T08-00-00_estimate_cells_as_wholes', now()), ('2026-12-04T21-30-00_drop_the_type_index_the_feed_replaced', now())`.execute(db);

      const started = await migrateToLatest(db);

      expect(started.error).toBeUndefined();
      const { rows: statistics } = await sql<{ name: string }>`select stxname as name from pg_statistic_ext`.execute(db);
      expect(statistics).toEqual([]);
      const { rows: names } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(names.map((r) => r.name)).toEqual(Object.keys(await migrationProvider.getMigrations()).sort());
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
      // One wrote the functions; the others, finding them in place once the lock was theirs, did not
      // write them again, appends waiting each time (probe of the upgrade path).
      expect(results.filter((r) => r.functionsWritten)).toHaveLength(1);
      // One rebuilt what the first migration asked for; the others waited for it and found nothing to do.
      expect(results.filter((r) => r.readModelRebuilt !== undefined)).toHaveLength(1);
      const db = instances[0]?.db;
      if (db === undefined) throw new Error('no instance');
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
      expect(rows).toEqual([{ n: MIGRATION_COUNT }]);
      expect(await pendingMigrations(db)).toEqual([]);
    } finally {
      await Promise.all(instances.map(({ db }) => db.destroy().catch(() => {})));
    }
  });

  it("starts on a database already holding this release without waiting for an append in flight, and writes the functions again, waiting for it, once they differ (PostgreSQL server only: PGlite runs one statement at a time)", async () => {
    const instance = await oneInstance();
    const { db, url } = instance;
    try {
      expect((await migrateToLatest(db)).error).toBeUndefined();
      if (url === undefined) {
        expect(await appliedFunctionsDigest(db)).toBe(await functionsDigest());
        return;
      }
      // An append in flight holds the projection lock shared (lock_projection.sql) until it commits:
      // a late fact re-folding a busy cell holds it for seconds.
      const append = new pg.Client({ connectionString: url });
      await append.connect();
      const race = <T>(work: Promise<T>) => Promise.race([work.then(() => 'done' as const), sleep(2000).then(() => 'still waiting' as const)]);
      try {
        await append.query('begin');
        await append.query(`select pg_advisory_xact_lock_shared(hashtextextended('projection', 0))`);

        const unchanged = migrateToLatest(db);
        expect(await race(unchanged)).toBe('done');
        expect((await unchanged).results).toEqual([]);

        // Another release's functions (a digest of other files): this start writes them, after the append.
        await sql`create or replace function applied_functions_digest() returns text language sql immutable as $$ select 'another release' $$`.execute(db);
        const changed = migrateToLatest(db);
        expect(await race(changed)).toBe('still waiting');
        await append.query('commit');
        expect((await changed).error).toBeUndefined();
        expect(await appliedFunctionsDigest(db)).toBe(await functionsDigest());
      } finally {
        await append.end();
      }
    } finally {
      await db.destroy();
    }
  });

  it('drops a retired index after the migrations, without stopping reads of its table while a long reader holds the drop back, and leaves it to the next start then', async () => {
    const instance = await oneInstance();
    const { db } = instance;
    try {
      expect((await migrateToLatest(db)).error).toBeUndefined();
      expect(await indexExists(db, 'event_type')).toBe(false);
      // As a database migrated before the index was retired still holds it.
      await sql`create index event_type on event (type, position)`.execute(db);
      if (instance.url !== undefined) {
        // A long reader (a pg_dump, an analyst's session) holds the table; on one process's own database, none can.
        const reader = new pg.Client({ connectionString: instance.url });
        await reader.connect();
        try {
          await reader.query('begin');
          await reader.query('select count(*) from event');
          const migrating = migrateToLatest(db);
          await dropWaiting(db);
          // Another read of the table while the drop waits: a DROP INDEX among the migrations would queue it.
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from event`.execute(db);
          expect(rows).toHaveLength(1);
          expect(await dropWaiting(db), 'the drop still waits after the read').toBeGreaterThan(0);
          // The drop gives up after its lock timeout; the start goes on, the index left for the next, and said so.
          const outcome = await migrating;
          expect(outcome.error).toBeUndefined();
          expect(outcome.retiredIndexesLeft.map((left) => left.index)).toEqual(['event_type']);
          expect(await indexExists(db, 'event_type')).toBe(true);
        } finally {
          await reader.end();
        }
      }
      const next = await migrateToLatest(db);
      expect(next.error).toBeUndefined();
      expect(next.retiredIndexesLeft).toEqual([]);
      expect(await indexExists(db, 'event_type')).toBe(false);
    } finally {
      await db.destroy();
    }
  }, 60_000);
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

/** One service's database: a new one on a server (with its URL, for a connection of another client), or a PGlite of its own. */
async function oneInstance(): Promise<{ db: Db; url?: string }> {
  const spec = inject('testDatabase');
  if (spec.kind !== 'postgres') return openDatabase({ kind: 'pglite', dataDir: undefined });
  const url = databaseUrl(spec.adminUrl, `${spec.prefix}_mig_${randomBytes(3).toString('hex')}`);
  await runAdmin(spec.adminUrl, `create database ${new URL(url).pathname.slice(1)}`);
  return { ...(await openDatabase({ kind: 'postgres', url, poolSize: 4 })), url };
}

const indexExists = async (db: Db, name: string): Promise<boolean> => {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${name}) is not null as found`.execute(db);
  return rows[0]?.found ?? false;
};

/** The backends of this database whose DROP INDEX CONCURRENTLY waits for a lock, once there is one. */
async function dropWaiting(db: Db): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock' and query ilike 'drop index concurrently%'`.execute(db);
    const waiting = rows[0]?.n ?? 0;
    if (waiting > 0) return waiting;
    if (Date.now() > deadline) throw new Error('no drop waiting for a lock');
    await sleep(20);
  }
}
