import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, DEFAULT_LIMITS, type AppLimits } from '../../src/app.js';
import { openTestDatabase, type TestDatabase } from './test-database.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** The whole service on a database of this file's own, driven through inject(). */
export async function startTestApp(options: { limits?: Partial<AppLimits>; poolSize?: number } = {}): Promise<TestApp> {
  const database = await openTestDatabase({ poolSize: options.poolSize });
  const app = await buildApp({ db: database.db, limits: { ...DEFAULT_LIMITS, ...options.limits } });
  await app.ready();
  return {
    app,
    database,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/** Starts the app before this file's tests and closes it after them. */
export function useTestApp(options: { limits?: Partial<AppLimits>; poolSize?: number } = {}): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(options);
  });
  afterAll(async () => started?.close());
  const current = (): TestApp => {
    if (started === undefined) throw new Error('the test app starts in beforeAll');
    return started;
  };
  return {
    get app() {
      return current().app;
    },
    get database() {
      return current().database;
    },
    close: () => current().close(),
  };
}
