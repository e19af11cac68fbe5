import { loadConfig } from '../src/config.js';
import { openAnswering, startupMessage } from '../src/startup-errors.js';
import { WAITING_FOR_ANOTHER_REBUILD } from '../src/store/read-model-rebuild.js';
import { migrateToLatest } from './migrator.js';

// `npm run migrate`: applies pending migrations to the configured database and exits.
try {
  const { db } = await openAnswering(loadConfig(process.env).database);
  try {
    let phase: string | undefined;
    const { results = [], error, retiredIndexesLeft, withdrawnForgotten, readModelRebuilt, functionsWritten } = await migrateToLatest(db, (progress) => {
      if (progress.phase === phase) return;
      phase = progress.phase;
      // Said live, while the migrations' own lines come at the end: hence "done".
      console.log(
        phase === 'queue'
          ? `migrations done (listed below); ${WAITING_FOR_ANOTHER_REBUILD}`
          : `migrations done (listed below); rebuilding the read model: ${phase}`,
      );
    });
    for (const name of withdrawnForgotten) console.log(`forgotten (withdrawn, undone): ${name}`);
    for (const r of results) console.log(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`);
    if (readModelRebuilt !== undefined) console.log(`read model rebuilt from ${readModelRebuilt.events} events (${readModelRebuilt.cells} milestone cells)`);
    if (results.length === 0 && error === undefined) console.log(functionsWritten ? "up to date, this release's functions written" : 'up to date');
    for (const { index, reason } of retiredIndexesLeft) console.warn(`could not drop the retired index ${index} (${reason}); the next run tries again`);
    if (error !== undefined) throw error;
  } finally {
    await db.destroy();
  }
} catch (error) {
  console.error(`migration failed: ${startupMessage(error)}`);
  process.exitCode = 1;
}
