import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { openDatabase, type OpenDatabase } from '../../src/store/open-database.js';
import { databaseUrl, runAdmin } from './postgres-admin.js';
import './test-database-spec.js';

export interface TestDatabase extends OpenDatabase {
  /** Where it runs, for tests that need a second connection of their own. */
  readonly url: string | undefined;
  close(): Promise<void>;
}

/** A migrated database for one test file alone: a copy of the template, or a fresh PGlite. */
export async function openTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const spec = inject('testDatabase');
  if (spec.kind === 'pglite') {
    const snapshot = new Blob([await readFile(spec.snapshotPath)]);
    const opened = await openDatabase({ kind: 'pglite', dataDir: undefined, snapshot });
    return { ...opened, url: undefined, close: () => opened.db.destroy() };
  }
  const name = `${spec.prefix}_${randomBytes(4).toString('hex')}`;
  await runAdmin(spec.adminUrl, `create database ${name} template ${spec.template}`);
  const url = databaseUrl(spec.adminUrl, name);
  const opened = await openDatabase({ kind: 'postgres', url, poolSize: options.poolSize ?? 20 });
  return { ...opened, url, close: () => opened.db.destroy() };
}
