import { loadConfig } from '../src/config.js';
import { openAnswering, startupMessage } from '../src/startup-errors.js';
import { migrateToLatest } from './migrator.js';

// `npm run migrate`: applies pending migrations to the configured database and exits.
try {
  const { db } = await openAnswering(loadConfig(process.env).database);
  try {
    const { results = [], error, retiredIndexesLeft } = await migrateToLatest(db);
    for (const r of results) console.log(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`);
    if (results.length === 0 && error === undefined) console.log('up to date');
    for (const { index, reason } of retiredIndexesLeft) console.warn(`could not drop the retired index ${index} (${reason}); the next run tries again`);
    if (error !== undefined) throw error;
  } finally {
    await db.destroy();
  }
} catch (error) {
  console.error(`migration failed: ${startupMessage(error)}`);
  process.exitCode = 1;
}
