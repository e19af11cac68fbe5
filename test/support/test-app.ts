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
export interface TestAppOptions {
  readonly limits?: Partial<AppLimits>;
  readonly poolSize?: number;
  /** The clock views judge overdue by. */
  readonly now?: () => Date;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await openTestDatabase({ poolSize: options.poolSize });
  const app = await buildApp({
    db: database.db,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.now !== undefined && { now: options.now }),
  });
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
export function useTestApp(options: TestAppOptions = {}): TestApp {
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
