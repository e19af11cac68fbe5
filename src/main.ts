import { migrateToLatest } from '../db/migrator.js';
import { buildApp, DEFAULT_LIMITS } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './store/open-database.js';
import { checkDatabaseReadiness } from './store/readiness.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const { db, target } = await openDatabase(config.database);
  const migration = await migrateToLatest(db);
  if (migration.error !== undefined) throw migration.error;

  const app = await buildApp({
    db,
    limits: { ...DEFAULT_LIMITS, appendBodyLimit: config.appendBodyLimit, maxPageSize: config.maxPageSize },
    logger: { level: config.logLevel, redact: ['req.headers.authorization'] },
    checkReadiness: () => checkDatabaseReadiness(db),
  });
  app.addHook('onClose', async () => db.destroy());

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
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
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
