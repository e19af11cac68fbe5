import { loadConfig } from '../src/config.js';
import { rebuildMilestoneCells } from '../src/store/milestone-cells.js';
import { openDatabase } from '../src/store/open-database.js';

// `npm run projections:rebuild`: recomputes every milestone cell from the log while the service
// keeps answering from the old cells, and reports the rate.
const config = loadConfig(process.env);
const { db } = await openDatabase(config.database);
try {
  const started = performance.now();
  const { cells, events } = await rebuildMilestoneCells(db);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `rebuilt ${cells} milestone cells from ${events} events in ${seconds.toFixed(2)} s (${Math.round(events / Math.max(seconds, 1e-6))} events/s)\n`,
  );
} finally {
  await db.destroy();
}
