import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { z } from 'zod';
import { milestonePlanned, programRegistered } from '../support/events.js';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import { findFreePort, killService, launchService, spawnService, waitForExit, type ServiceProcess } from '../support/service-process.js';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * What a start did to its database, said in its log: an operator rolling out a release sees which
 * instance wrote the functions under the projection lock, during which appends wait, and which
 * found them in place (found missing by the probe of upgrades).
 */

const ADMIN_API_KEY = 'start-log-admin-key-0001';
const TEST_TIMEOUT_MS = 120_000;

let service: ServiceProcess | undefined;
let database: Pick<ServiceDatabase, 'remove'> | undefined;
afterEach(async () => {
  await killService(service);
  await database?.remove();
  service = undefined;
  database = undefined;
});

const StartLine = z.looseObject({ msg: z.string(), migrationsApplied: z.array(z.string()), functionsWritten: z.boolean(), migrationMs: z.number().int().min(0) });

/** The log line of a start that says what it did to the database; fails unless there is exactly one. */
function startLine(stdout: string): z.infer<typeof StartLine> {
  const found = stdout
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    })
    .flatMap((entry: unknown) => {
      const parsed = StartLine.safeParse(entry);
      return parsed.success ? [parsed.data] : [];
    });
  expect(found, stdout).toHaveLength(1);
  const [line] = found;
  if (line === undefined) throw new Error('no start line');
  return line;
}

const start = (on: Pick<ServiceDatabase, 'env'>) => launchService({ ...on.env, ADMIN_API_KEY, LOG_LEVEL: 'info' });

/** A database with nothing in it yet, of the kind the tests run on; removed after the test. */
async function emptyDatabase(): Promise<Pick<ServiceDatabase, 'env' | 'remove'>> {
  const spec = inject('testDatabase');
  if (spec.kind === 'postgres') {
    const name = `${spec.prefix}_${randomBytes(4).toString('hex')}`;
    await runAdmin(spec.adminUrl, `create database ${name}`);
    return { env: { DATABASE_URL: databaseUrl(spec.adminUrl, name) }, remove: () => runAdmin(spec.adminUrl, `drop database if exists ${name} with (force)`) };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'ml-start-log-'));
  return { env: { DATABASE_URL: '', DATA_DIR: dataDir }, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

describe('a start, in its log', () => {
  it('says whether it found the database at this release or wrote its functions, which migrations it applied, and how long that took', async () => {
    const migrated = await createServiceDatabase();
    database = migrated;
    service = await start(migrated);
    expect(startLine(service.stdout())).toMatchObject({ msg: 'database already at this release', migrationsApplied: [], functionsWritten: false });
    await killService(service);

    // As after a function changed by hand, or a release with other functions: the record of them gone.
    const opened = await migrated.open();
    await sql`drop function applied_functions_digest()`.execute(opened.db);
    await opened.db.destroy();
    service = await start(migrated);

    expect(startLine(service.stdout())).toMatchObject({ msg: 'database brought up to this release', migrationsApplied: [], functionsWritten: true });
  }, TEST_TIMEOUT_MS);

  it('names every migration it applied to an empty database, in order', async () => {
    const empty = await emptyDatabase();
    database = empty;
    service = await start(empty);

    // The first migration asks for a rebuild, which an empty log makes short.
    expect(startLine(service.stdout())).toMatchObject({
      msg: 'database brought up to this release, its read model rebuilt from 0 events',
      migrationsApplied: Object.keys(await migrationProvider.getMigrations()).sort(),
      functionsWritten: true,
      withdrawnMigrationsForgotten: [],
      readModelRebuilt: { events: 0, cells: 0 },
    });
  }, TEST_TIMEOUT_MS);

  it('says that it rebuilds the read model a migration asked for before it answers, as it begins each step, and how much it rebuilt (probe of the upgrade path)', async () => {
    const migrated = await createServiceDatabase();
    database = migrated;
    service = await start(migrated);
    for (const events of [programRegistered('rebuilt'), milestonePlanned('rebuilt', 'launch', 'program')]) {
      const recorded = await fetch(`${service.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
      expect(recorded.status).toBe(201);
    }
    await killService(service);
    // As a migration that changes what the read model holds leaves it.
    const opened = await migrated.open();
    await sql`update read_model_status set rebuild_pending = true`.execute(opened.db);
    await opened.db.destroy();

    service = await start(migrated);

    const log = service.stdout();
    expect(startLine(log)).toMatchObject({
      msg: 'database already at this release, its read model rebuilt from 2 events',
      migrationsApplied: [],
      functionsWritten: false,
      readModelRebuilt: { events: 2 },
    });
    const said = log.split('\n').filter((line) => line.includes('rebuilding the read model before answering'));
    expect(said.map((line) => z.object({ phase: z.string() }).parse(JSON.parse(line)).phase)).toEqual(expect.arrayContaining(['read', 'fold', 'switch']));
    expect(log.indexOf(said[0] ?? 'none')).toBeLessThan(log.indexOf('its read model rebuilt'));
  }, TEST_TIMEOUT_MS);

  it('seeds ADMIN_API_KEY as part of the start, whatever the statement timeout: at 1 ms it starts, and the key is stored (probe of the README\'s claims)', async () => {
    const migrated = await createServiceDatabase();
    database = migrated;
    // On a server, the key's table held locked for a moment, so that the seeding's insert waits past
    // the 1 ms (alone it often took less, and passed under the timeout too); PGlite has no other session.
    const url = migrated.env.DATABASE_URL;
    const holder = url === undefined || url === '' ? undefined : new pg.Client({ connectionString: url });
    await holder?.connect();
    await holder?.query('begin');
    await holder?.query('lock table api_key in access exclusive mode');
    service = spawnService({ ...migrated.env, ADMIN_API_KEY, DATABASE_STATEMENT_TIMEOUT_MS: '1', LOG_LEVEL: 'info' }, await findFreePort());
    const released = sleep(3000).then(async () => {
      await holder?.query('commit');
      await holder?.end();
    });
    const listening = async () => {
      for (;;) {
        if (service?.stdout().includes('Server listening')) return 'listening';
        await sleep(50);
      }
    };

    const outcome = await Promise.race([listening(), waitForExit(service, 60_000)]);
    await released;
    expect(outcome, `${service.stderr()}\n${service.stdout()}`).toBe('listening');
    await killService(service);

    const opened = await migrated.open();
    const keys = await opened.db.selectFrom('api_key').select(['name', 'role']).execute();
    await opened.db.destroy();
    expect(keys).toEqual([{ name: 'ADMIN_API_KEY', role: 'admin' }]);
  }, TEST_TIMEOUT_MS);

  it('warns that no key can be created only while it is so: ADMIN_API_KEY unset or revoked, and no admin key of the API\'s own live (probe of the README\'s claims, and its review)', async () => {
    const UNSET = "ADMIN_API_KEY is not set and the database holds no live admin key of the API's own (mlk_…): no key can be created";
    const REVOKED = "ADMIN_API_KEY was revoked through the API and the database holds no live admin key of the API's own (mlk_…): no key can be created";
    const migrated = await createServiceDatabase();
    database = migrated;
    // Empty is unset: the test run's environment may hold one.
    const without = { ...migrated.env, ADMIN_API_KEY: '', LOG_LEVEL: 'info' };
    const said: string[] = [];
    const startAndSay = async (env: Record<string, string>) => {
      await killService(service);
      service = await launchService(env);
      said.push([UNSET, REVOKED].find((warning) => service?.stdout().includes(warning)) ?? 'nothing');
      return service.url;
    };
    const ask = async (url: string, method: 'POST' | 'DELETE' | 'GET', path: string, key: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(response.status, `${method} ${path}`).toBeLessThan(300);
      return z.looseObject({}).parse(await response.json());
    };

    await startAndSay(without);
    const url = await startAndSay({ ...migrated.env, ADMIN_API_KEY, LOG_LEVEL: 'info' });
    const operator = z.object({ id: z.string(), key: z.string() }).parse(await ask(url, 'POST', '/v1/api-keys', ADMIN_API_KEY, { name: 'an operator', role: 'admin' }));
    const { apiKeys } = z.object({ apiKeys: z.array(z.object({ id: z.string(), name: z.string() })) }).parse(await ask(url, 'GET', '/v1/api-keys', operator.key));
    const environmentKey = apiKeys.find((key) => key.name === 'ADMIN_API_KEY')?.id ?? 'none';
    await ask(url, 'DELETE', `/v1/api-keys/${environmentKey}`, operator.key);
    await startAndSay(without);
    const again = await startAndSay({ ...migrated.env, ADMIN_API_KEY, LOG_LEVEL: 'info' });
    await ask(again, 'DELETE', `/v1/api-keys/${operator.id}`, operator.key);
    await startAndSay({ ...migrated.env, ADMIN_API_KEY, LOG_LEVEL: 'info' });
    await startAndSay(without);

    // Unset on a new database; set and live; unset and set (revoked) beside the operator's key; set but revoked, and unset, with none.
    expect(said).toEqual([UNSET, 'nothing', 'nothing', 'nothing', REVOKED, UNSET]);
  }, TEST_TIMEOUT_MS);
});
