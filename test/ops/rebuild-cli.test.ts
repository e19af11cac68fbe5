import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyFunctions } from '../../db/functions.js';
import { migrationProvider } from '../../db/migrations.js';
import { programWithConsortium } from '../support/events.js';
import { get, record } from '../support/http.js';
import { killService, spawnService, waitForExit, type ServiceProcess } from '../support/service-process.js';
import { slowRebuildRefolds } from '../support/slow-rebuild-refolds.js';
import { useTestApp } from '../support/test-app.js';
import { withoutJudgedAt } from '../support/views.js';
import type { Db } from '../../src/store/database.js';

const t = useTestApp();
const started: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map(killService));
});

/** `npm run projections:rebuild`, under node itself so that its exit is its own. */
const REBUILD_COMMAND = { file: process.execPath, args: ['--import', 'tsx', 'db/rebuild-projections.ts'] };

describe('npm run projections:rebuild', () => {
  it('says that it failed, in which step, and what it leaves, in a few lines and no stack, when the server ends its connection (PostgreSQL server only: the command takes DATABASE_URL)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('cli');
    await record(t.app, ...scenario.events, { type: 'milestone.started', occurredAt: '2026-05', data: { programId: scenario.programId, milestone: 'final-evaluation' } });
    const before = await get(t.app, `/v1/programs/${scenario.programId}/milestones`);
    // Another rebuild under way: this one waits for it, saying so, on a connection the server then ends.
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query(`select pg_advisory_lock(hashtextextended('ml_rebuild', 0))`);
      const cli = spawnService({ DATABASE_URL: t.database.url }, 0, REBUILD_COMMAND);
      started.push(cli);
      await expect.poll(() => cli.stdout(), { timeout: 60_000, interval: 100 }).toContain('queue: waiting for another rebuild to end');
      await other.query(`
        select pg_terminate_backend(l.pid) from pg_locks l
        where l.locktype = 'advisory' and not l.granted and l.database = (select oid from pg_database where datname = current_database())`);

      const exit = await waitForExit(cli, 60_000);

      expect(exit).toEqual({ code: 1, signal: null });
      const said = cli.stderr();
      expect(said).toMatch(/^rebuild failed after \d+\.\d s, the last step it reported being queue: the database cannot be reached right now; retry in a moment \(terminating connection due to administrator command\)$/m);
      expect(said).toMatch(/^The read model in use is as it was: .* run it again once the database answers\.$/m);
      expect(said).not.toMatch(/^\s+at /m);
      expect(said.trim().split('\n')).toHaveLength(2);
    } finally {
      await other.end();
    }
    // The same answer but for judgedAt, the moment of each request.
    const after = await get(t.app, `/v1/programs/${scenario.programId}/milestones`);
    expect(withoutJudgedAt(after.body)).toBe(withoutJudgedAt(before.body));
    expect(withoutJudgedAt(after.body)).toContain('in_progress');
  });
  it('says, stopped by SIGTERM, where it stood and what it leaves, and the server ends the folds it was running within seconds, not when they finish (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('stopped');
    await record(t.app, ...scenario.events);
    // Each of the rebuild's re-folds takes a minute: the fold is under way when the command is stopped.
    const restore = await slowRebuildRefolds(t.database.db, { seconds: 60 });
    const folding = async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity a
        where a.datname = current_database() and a.query like '%apply_to_cell%' and a.state = 'active' and a.pid <> pg_backend_pid()`.execute(t.database.db);
      return rows[0]?.n ?? 0;
    };
    try {
      const cli = spawnService({ DATABASE_URL: t.database.url }, 0, REBUILD_COMMAND);
      started.push(cli);
      await expect.poll(folding, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);

      cli.child.kill('SIGTERM');
      const exit = await waitForExit(cli, 30_000);

      expect(exit).toEqual({ code: 143, signal: null });
      const said = cli.stderr();
      expect(said).toMatch(/^rebuild stopped by SIGTERM after \d+\.\d s, the last step it reported being fold\.$/m);
      expect(said).toMatch(/^The read model in use is as it was: .* dropped by the next rebuild\.$/m);
      // The server saw its client gone (client_connection_check_interval) and ended the minute-long folds.
      await expect.poll(folding, { timeout: 15_000, interval: 200 }).toBe(0);
    } finally {
      await restore();
    }
    const milestone = await get(t.app, `/v1/programs/${scenario.programId}/milestones/final-evaluation`);
    expect(milestone.status).toBe(200);
  });

  it.each([
    ['a database that does not exist', (url: string) => url.replace(/\/[^/]*$/, '/ml_no_such_database'), /^rebuild failed to start: cannot open the database DATABASE_URL names \(database ml_no_such_database on .*\): database "ml_no_such_database" does not exist$/m],
    ['a DATABASE_URL that is no URL', () => 'notaurl', /^rebuild failed to start: invalid configuration: DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/m],
  ])('says in a sentence, and no stack, that it cannot start on %s (PostgreSQL server only: the command takes DATABASE_URL)', async (_case, urlOf, sentence) => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const cli = spawnService({ DATABASE_URL: urlOf(t.database.url) }, 0, REBUILD_COMMAND);
    started.push(cli);

    const exit = await waitForExit(cli, 60_000);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toMatch(sentence);
    expect(cli.stderr()).not.toMatch(/^\s+at /m);
    expect(cli.stderr()).not.toContain('retry in a moment');
  });

  it.each([
    [
      'a newer release has migrated',
      (db: Db) => sql`insert into kysely_migration (name, timestamp) values ('2099-01-01T00-00-00_from_the_future', now())`.execute(db),
      (db: Db) => sql`delete from kysely_migration where name = '2099-01-01T00-00-00_from_the_future'`.execute(db),
      /^rebuild failed to start: this database has been migrated by a newer release of milestone-ledger \(2099-01-01T00-00-00_from_the_future: unknown to this release\)/m,
    ],
    [
      'this release has not brought up',
      (db: Db) => sql`delete from kysely_migration where name = (select max(name) from kysely_migration)`.execute(db),
      async (db: Db) => {
        await sql`delete from kysely_migration`.execute(db);
        for (const name of Object.keys(await migrationProvider.getMigrations())) await sql`insert into kysely_migration (name, timestamp) values (${name}, now())`.execute(db);
      },
      /^rebuild failed to start: this database is not at this release of milestone-ledger: 1 of its migrations not applied \(the first .*\); bring it up to this release first \(npm run migrate, or start the service\), then rebuild$/m,
    ],
  ])('refuses, in a sentence and before it changes anything, a database %s (probe of the upgrade path; PostgreSQL server only)', async (_case, change, undo, sentence) => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    await change(t.database.db);
    try {
      const cli = spawnService({ DATABASE_URL: t.database.url }, 0, REBUILD_COMMAND);
      started.push(cli);

      const exit = await waitForExit(cli, 60_000);

      expect(exit).toEqual({ code: 1, signal: null });
      expect(cli.stderr()).toMatch(sentence);
      expect(cli.stderr()).not.toMatch(/^\s+at /m);
      expect(cli.stdout()).toBe('');
    } finally {
      await undo(t.database.db);
    }
  });

  it('prints any other failure whole, with the SQL function\'s context, and leaves the read model as it was (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('broken');
    await record(t.app, ...scenario.events, { type: 'milestone.started', occurredAt: '2026-05', data: { programId: scenario.programId, milestone: 'final-evaluation' } });
    // A fold that fails as a defect would, every time.
    await sql`
      create or replace function apply_to_cell(p_program text, p_milestone text, p_consortium text, p_ids uuid[])
      returns void language plpgsql set enable_seqscan = off as $$ begin raise exception 'no fold today'; end $$`.execute(t.database.db);
    try {
      const cli = spawnService({ DATABASE_URL: t.database.url }, 0, REBUILD_COMMAND);
      started.push(cli);

      const exit = await waitForExit(cli, 120_000);

      expect(exit).toEqual({ code: 1, signal: null });
      const said = cli.stderr();
      expect(said).toMatch(/^rebuild failed after \d+\.\d s, the last step it reported being (read|fold): .*no fold today/m);
      expect(said).toContain('PL/pgSQL function apply_to_cell');
      expect(said).toMatch(/^The read model in use is as it was: .* dropped by the next rebuild\.$/m);
      expect(said).not.toContain('run it again once the database answers');
    } finally {
      await applyFunctions(t.database.db);
    }
    const milestone = await get(t.app, `/v1/programs/${scenario.programId}/milestones/final-evaluation`);
    expect(JSON.stringify(milestone.body)).toContain('in_progress');
  });
});
