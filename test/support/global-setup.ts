import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../db/migrator.js';
import { createPglite, openDatabase, openPglite } from '../../src/store/open-database.js';
import { databaseUrl, dropDatabases, runAdmin } from './postgres-admin.js';
import './test-database-spec.js';

/**
 * Chooses the tests' database, in this order: DATABASE_URL if set; else a PostgreSQL container if
 * a container runtime answers; else embedded PGlite. Migrates once into a template that each test
 * file copies, so files run in parallel on databases of their own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') return usePostgres(project, url, 'DATABASE_URL', async () => {});

  const { getContainerRuntimeClient } = await import('testcontainers');
  const hasRuntime = await getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  if (hasRuntime) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    return usePostgres(project, container.getConnectionUri(), 'testcontainers', async () => {
      await container.stop();
    });
  }
  return usePglite(project);
}

async function usePostgres(
  project: TestProject,
  adminUrl: string,
  source: 'DATABASE_URL' | 'testcontainers',
  stop: () => Promise<void>,
): Promise<() => Promise<void>> {
  const prefix = `ml_test_${randomBytes(4).toString('hex')}`;
  const template = `${prefix}_template`;
  await runAdmin(adminUrl, `create database ${template}`);
  const { db } = await openDatabase({ kind: 'postgres', url: databaseUrl(adminUrl, template), poolSize: 2 });
  const { error } = await migrateToLatest(db);
  await db.destroy();
  if (error !== undefined) throw error;
  project.provide('testDatabase', { kind: 'postgres', adminUrl, template, prefix, source });
  return async () => {
    await dropDatabases(adminUrl, prefix);
    await stop();
  };
}

async function usePglite(project: TestProject): Promise<() => Promise<void>> {
  const pglite = await createPglite(undefined);
  const { db } = openPglite(pglite);
  const { error } = await migrateToLatest(db);
  if (error !== undefined) throw error;
  const dump = await pglite.dumpDataDir('none');
  await db.destroy();
  const dir = await mkdtemp(join(tmpdir(), 'ml-test-'));
  const snapshotPath = join(dir, 'migrated.tar');
  await writeFile(snapshotPath, Buffer.from(await dump.arrayBuffer()));
  project.provide('testDatabase', { kind: 'pglite', snapshotPath });
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
