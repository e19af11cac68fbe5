import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
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
let database: ServiceDatabase | undefined;
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

const start = (on: ServiceDatabase) => launchService({ ...on.env, ADMIN_API_KEY, LOG_LEVEL: 'info' });

describe('a start, in its log', () => {
  it('says whether it found the database at this release or wrote its functions, which migrations it applied, and how long that took', async () => {
    database = await createServiceDatabase();
    service = await start(database);
    expect(startLine(service.stdout())).toMatchObject({ msg: 'database already at this release', migrationsApplied: [], functionsWritten: false });
    await killService(service);

    // As after a function changed by hand, or a release with other functions: the record of them gone.
    const opened = await database.open();
    await sql`drop function applied_functions_digest()`.execute(opened.db);
    await opened.db.destroy();
    service = await start(database);

    expect(startLine(service.stdout())).toMatchObject({ msg: 'database brought up to this release', migrationsApplied: [], functionsWritten: true });
  }, TEST_TIMEOUT_MS);
});
