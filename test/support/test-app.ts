import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, DEFAULT_LIMITS, type AppDependencies, type AppLimits, type WebhookSettings } from '../../src/app.js';
import type { Metrics } from '../../src/http/metrics.js';
import type { Db } from '../../src/store/database.js';
import { seedAdminKey } from '../../src/services/api-keys.js';
import { TEST_ADMIN_KEY } from './http.js';
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
  /** How webhook URLs are vetted; tests inject a resolver so that no real DNS query happens. */
  readonly webhooks?: WebhookSettings;
  /** Pino options; tests of the logs pass a stream to capture them. Silent by default. */
  readonly logger?: AppDependencies['logger'];
  /** The app's metrics, for a test that wires a dispatcher to them as main.ts does, or made on its database (its pool) as main.ts makes them. */
  readonly metrics?: Metrics | ((database: TestDatabase) => Metrics);
  /** Wraps the handle the app is given, e.g. to record the statements it runs. */
  readonly wrapDb?: (db: Db) => Db;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await openTestDatabase({ poolSize: options.poolSize });
  await seedAdminKey(database.db, TEST_ADMIN_KEY);
  const app = await buildApp({
    db: options.wrapDb?.(database.db) ?? database.db,
    adminApiKey: TEST_ADMIN_KEY,
    // Tests send thousands of requests a minute; the rate-limit test sets its own limit.
    limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 1_000_000, ...options.limits },
    ...(options.now !== undefined && { now: options.now }),
    ...(options.webhooks !== undefined && { webhooks: options.webhooks }),
    ...(options.logger !== undefined && { logger: options.logger }),
    ...(options.metrics !== undefined && { metrics: typeof options.metrics === 'function' ? options.metrics(database) : options.metrics }),
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
