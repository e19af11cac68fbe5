import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { z } from 'zod';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import { killService, launchService, type ServiceProcess } from '../support/service-process.js';

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

    expect(startLine(service.stdout())).toMatchObject({
      msg: 'database brought up to this release',
      migrationsApplied: Object.keys(await migrationProvider.getMigrations()).sort(),
      functionsWritten: true,
    });
  }, TEST_TIMEOUT_MS);
});
