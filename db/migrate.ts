import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/store/open-database.js';
import { migrateToLatest, NewerDatabaseError } from './migrator.js';

// `npm run migrate`: applies pending migrations to the configured database and exits.
const config = loadConfig(process.env);
const { db } = await openDatabase(config.database);
const { results = [], error, retiredIndexesLeft } = await migrateToLatest(db);
for (const r of results) console.log(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`);
if (results.length === 0 && error === undefined) console.log('up to date');
for (const { index, reason } of retiredIndexesLeft) console.warn(`could not drop the retired index ${index} (${reason}); the next run tries again`);
await db.destroy();
if (error !== undefined) {
  // A database a newer release migrated is said in its sentence; anything else whole.
  console.error('migration failed:', error instanceof NewerDatabaseError ? error.message : error);
  process.exit(1);
}
