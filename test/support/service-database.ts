import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createPglite, openDatabase, type OpenDatabase } from '../../src/store/open-database.js';
import { databaseUrl, runAdmin } from './postgres-admin.js';
import './test-database-spec.js';

/** A migrated database of its own for a spawned service: a PostgreSQL database, or a PGlite data folder. */
export interface ServiceDatabase {
  readonly kind: 'postgres' | 'pglite';
  /** The variables that point the service at it. */
  readonly env: Readonly<Record<string, string>>;
  /** Opens it from the test process. PGlite admits one process at a time: only while no service runs on it. */
  open(): Promise<OpenDatabase>;
  remove(): Promise<void>;
}

export async function createServiceDatabase(): Promise<ServiceDatabase> {
  const spec = inject('testDatabase');
  if (spec.kind === 'postgres') {
    const name = `${spec.prefix}_${randomBytes(4).toString('hex')}`;
    await runAdmin(spec.adminUrl, `create database ${name} template ${spec.template}`);
    const url = databaseUrl(spec.adminUrl, name);
    return {
      kind: 'postgres',
      env: { DATABASE_URL: url },
      open: () => openDatabase({ kind: 'postgres', url, poolSize: 2 }),
      remove: () => runAdmin(spec.adminUrl, `drop database if exists ${name} with (force)`),
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'ml-service-'));
  // From the migrated snapshot: in an empty folder the service would spend ~10 s creating and migrating it.
  const pglite = await createPglite(dataDir, new Blob([await readFile(spec.snapshotPath)]));
  await pglite.close();
  return {
    kind: 'pglite',
    // Empty, not absent: the service must not inherit a DATABASE_URL from the test run's environment.
    env: { DATABASE_URL: '', DATA_DIR: dataDir },
    open: () => openDatabase({ kind: 'pglite', dataDir }),
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}
