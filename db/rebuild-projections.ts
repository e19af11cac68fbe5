import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/store/open-database.js';
import { rebuildReadModel } from '../src/store/read-model-rebuild.js';

// `npm run projections:rebuild`: rebuilds the read model from the log in chunks while the service
// keeps answering from the old one, and reports progress and the rate.
const config = loadConfig(process.env);
const { db } = await openDatabase(config.database);
/** Events per second, for a progress line. */
const rate = (events: number, seconds: number) => `${Math.round(events / Math.max(seconds, 1e-6))} events/s`;

try {
  const started = performance.now();
  let reported = { phase: '', count: 0 };
  const { cells, events } = await rebuildReadModel(db, ({ phase, events: read, cells: folded, seconds }) => {
    const count = phase === 'fold' ? folded : read;
    if (phase === reported.phase && count - reported.count < (phase === 'fold' ? 5_000 : 50_000)) return;
    reported = { phase, count };
    const done = phase === 'fold' ? `${folded} cells folded` : `${read} events ${phase === 'read' ? 'read' : 'folded'}`;
    process.stdout.write(`${phase}: ${done} in ${seconds.toFixed(1)} s\n`);
  }, undefined, config.rebuildWorkers);
  const seconds = (performance.now() - started) / 1000;
  // The last line gives the whole run's rate, however few chunks it took.
  process.stdout.write(`rebuilt ${cells} milestone cells from ${events} events in ${seconds.toFixed(1)} s (${rate(events, seconds)})\n`);
} finally {
  await db.destroy();
}
