import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { migrateToLatest } from '../db/migrator.js';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import { LOGGER_OPTIONS } from './http/logger-options.js';
import { createMetrics } from './http/metrics.js';
import { ConfigError, loadConfig, SHUTDOWN_WATCHDOG_MARGIN_MS } from './config.js';
import { limitHeapGrowth } from './heap-policy.js';
import { hasLiveApiAdminKey, seedAdminKey } from './services/api-keys.js';
import { resolveWithDns } from './services/webhook-target-check.js';
import { openDatabase } from './store/open-database.js';
import { WAITING_FOR_ANOTHER_REBUILD, type RebuildProgress } from './store/read-model-rebuild.js';
import { checkDatabaseReadiness } from './store/readiness.js';
import { startupMessage, unreachable } from './startup-errors.js';
import { createDispatcher } from './webhooks/dispatcher.js';

/** The least time the pool is given to close on shutdown once every request is answered. */
const POOL_CLOSE_LEAST_MS = 1000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const heapPolicy = limitHeapGrowth(config.heapGrowingPercent);
  const { db, target, listen, unbounded, poolUse } = await openDatabase(config.database, { statementTimeoutMs: config.statementTimeoutMs });
  // A migration rewriting a large table, or the rebuild one asks for, is no request: no deadline.
  const migrationBegan = performance.now();
  // A rebuild a migration asks for holds the start for minutes: said as it begins and at each step,
  // before the port opens (until 2026-12-06 nothing was said until it ended; found by the probe of
  // the upgrade path). The service's logger comes with the app, after: this one writes the same lines.
  const startLog = pino({ ...LOGGER_OPTIONS, level: config.logLevel });
  let rebuildPhase: string | undefined;
  const onRebuild = ({ phase, events, cells, seconds }: RebuildProgress) => {
    if (phase === rebuildPhase) return;
    rebuildPhase = phase;
    const said = phase === 'queue' ? WAITING_FOR_ANOTHER_REBUILD : `rebuilding the read model before answering: ${phase}`;
    startLog.info({ phase, events, cells, seconds: Math.round(seconds) }, said);
  };
  const migration = await unbounded((unboundedDb) => migrateToLatest(unboundedDb, onRebuild)).catch((error: unknown) => {
    throw unreachable(error, config.database);
  });
  if (migration.error !== undefined) throw unreachable(migration.error, config.database);
  const migrationMs = Math.round(performance.now() - migrationBegan);
  const { adminApiKey } = config;
  // Part of the start, as the migrations are: not held to a request's statement timeout (at
  // DATABASE_STATEMENT_TIMEOUT_MS=1 the start died of it with a stack; found by the probe of the README's claims).
  const canCreateKeys = await unbounded(async (unboundedDb) => {
    const seededLive = adminApiKey !== undefined && (await seedAdminKey(unboundedDb, adminApiKey));
    return seededLive || hasLiveApiAdminKey(unboundedDb);
  }).catch((error: unknown) => {
    throw unreachable(error, config.database);
  });

  const webhooks = config.webhooks;
  const rules = { addresses: webhooks.allowedAddresses, allowHttp: webhooks.allowHttp };
  const metrics = createMetrics({ poolUse });
  const app = await buildApp({
    db,
    limits: {
      ...DEFAULT_LIMITS,
      appendBodyLimit: config.appendBodyLimit,
      maxPageSize: config.maxPageSize,
      appendConcurrency: config.appendConcurrency,
      appendMaxCalls: config.appendMaxCalls,
      rateLimitPerMinute: config.rateLimitPerMinute,
      apiKeyCacheMs: config.apiKeyCacheMs,
      maxFeedsPerKey: config.maxFeedsPerKey,
      maxFeedsPerInstance: config.maxFeedsPerInstance,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      socketIdleTimeoutMs: config.socketIdleTimeoutMs,
      statementTimeoutMs: config.statementTimeoutMs,
      shutdownGraceMs: config.shutdownGraceMs,
    },
    adminApiKey: config.adminApiKey,
    webhooks: { rules, resolve: resolveWithDns, defaultMaxInFlight: webhooks.maxInFlight },
    logger: { ...LOGGER_OPTIONS, level: config.logLevel },
    metrics,
    checkReadiness: () => checkDatabaseReadiness(db),
  });
  if (heapPolicy === 'unknown to V8') {
    app.log.warn({ heapGrowingPercent: config.heapGrowingPercent }, 'this V8 does not know --heap-growing-percent: HEAP_GROWING_PERCENT has no effect');
  }
  // Said only where it is so, and why: until 2026-12-06 it was said whenever ADMIN_API_KEY was unset,
  // whatever the database held, and never for one revoked (found by the probe of the README's claims,
  // and its review).
  if (!canCreateKeys) {
    const why = adminApiKey === undefined ? 'ADMIN_API_KEY is not set' : 'ADMIN_API_KEY was revoked through the API';
    app.log.warn(`${why} and the database holds no live admin key of the API's own (mlk_…): no key can be created`);
  }
  // What this start did to the database, and how long it took: an operator rolling out a release
  // sees which instance migrated, and whether a start wrote the functions under the projection lock
  // (appends wait meanwhile) or found them in place (found missing by the probe of upgrades).
  const migrationsApplied = (migration.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const { functionsWritten, withdrawnForgotten, readModelRebuilt } = migration;
  const state = functionsWritten ? 'database brought up to this release' : 'database already at this release';
  app.log.info(
    { migrationsApplied, functionsWritten, withdrawnMigrationsForgotten: withdrawnForgotten, readModelRebuilt: readModelRebuilt ?? null, migrationMs },
    readModelRebuilt === undefined ? state : `${state}, its read model rebuilt from ${readModelRebuilt.events} events`,
  );
  for (const { index, reason } of migration.retiredIndexesLeft) {
    app.log.warn({ index, reason }, 'could not drop an index the service no longer reads; the next start tries again');
  }

  const dispatcher = createDispatcher({
    db,
    instance: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    rules,
    resolve: resolveWithDns,
    retry: { schedule: webhooks.retrySchedule, maxRetryAfterSeconds: webhooks.maxRetryAfterSeconds },
    concurrency: webhooks.concurrency,
    leaseSeconds: webhooks.leaseSeconds,
    connectTimeoutMs: webhooks.connectTimeoutMs,
    totalTimeoutMs: webhooks.timeoutMs,
    pollMs: webhooks.pollMs,
    disableAfterSeconds: webhooks.disableAfterSeconds,
    logger: app.log.child({ component: 'webhooks' }),
    listen,
    onAttempt: metrics.onAttempt,
    onLeasesExpired: metrics.onLeasesExpired,
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const graceEndsAt = Date.now() + config.shutdownGraceMs;
    app.log.info({ signal }, 'shutting down');
    // Bounded: whatever still hangs after the grace period is abandoned (leases expire, nothing is lost).
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_WATCHDOG_MARGIN_MS).unref();
    // Stop accepting and finish requests in flight, while deliveries in flight finish or are released.
    Promise.all([app.close(), dispatcher.stop(config.shutdownGraceMs)])
      // Every request is answered and every delivery settled: a statement still running (the key
      // look-up of a request answered 503 when the grace ended, waiting for a lock) is one nobody
      // waits for. The pool is given what is left of the grace, at least a second, to end them;
      // waited for, they held the exit until the watchdog's exit 1 (found by the probe of the day's fixes).
      .then(async () => {
        const closed = await Promise.race([
          db.destroy().then(() => true),
          sleep(Math.max(POOL_CLOSE_LEAST_MS, graceEndsAt - Date.now()), false, { ref: false }),
        ]);
        if (!closed) app.log.warn('statements of requests already answered were still running when the grace ended: exiting without waiting for them');
      })
      .then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Plugins and hooks first, so that a failure of theirs keeps its own message and stack.
  await app.ready();
  // HOST is checked for its form at start; whether it names an address of this machine, and PORT a
  // free port, only listening tells: the message names both, as a bad value's would.
  await app.listen({ port: config.port, host: config.host }).catch((error: unknown) => {
    throw new ConfigError(`cannot listen on HOST=${config.host} PORT=${config.port}: ${error instanceof Error ? error.message : String(error)}`);
  });
  await dispatcher.start();
  app.log.info({ database: target }, 'milestone-ledger is ready');
}

// A promise nobody awaited failed, or a throw escaped every handler: the process state is unknown.
for (const event of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(event, (error: unknown) => {
    process.stderr.write(`${event}: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration), stderr is the only place to say why.
  process.stderr.write(`${startupMessage(error)}\n`);
  process.exit(1);
});
