import { inspect } from 'node:util';
import { loadConfig } from '../src/config.js';
import { DatabaseUnavailableError } from '../src/domain/errors.js';
import { openAnswering, startupMessage } from '../src/startup-errors.js';
import { rebuildReadModel, type RebuildProgress } from '../src/store/read-model-rebuild.js';
import { otherReleaseError } from './migrator.js';

// `npm run projections:rebuild`: rebuilds the read model from the log in chunks while the service
// keeps answering from the old one, and reports progress and the rate.
const { config, db } = await configured().catch((error: unknown) => {
  process.stderr.write(`rebuild failed to start: ${startupMessage(error)}\n`);
  process.exit(1);
});

/** The configuration and its database, answering and at this release. */
async function configured() {
  const config = loadConfig(process.env);
  const { db } = await openAnswering(config.database);
  const refused = await otherReleaseError(db).catch((error: unknown) => error);
  if (refused !== undefined) {
    await db.destroy().catch(() => {});
    throw refused;
  }
  return { config, db };
}

const PROGRESS_SECONDS = 10;
/** Events per second, for a progress line. */
const rate = (events: number, seconds: number) => `${Math.round(events / Math.max(seconds, 1e-6))} events/s`;

const started = performance.now();
let last: RebuildProgress | undefined;
/** Where the rebuild stood, for a line saying it stopped. */
const stoppedAt = () =>
  `after ${((performance.now() - started) / 1000).toFixed(1)} s, ${last === undefined ? 'before it reported a step' : `the last step it reported being ${last.phase}`}`;
/** What a rebuild that stops leaves, whatever stopped it; `advice`, what to do then. */
const leftBehind = (advice: string) =>
  'The read model in use is as it was: the rebuild puts its tables in place only at its end, in one transaction ' +
  '(a connection lost during that commit may have committed it; either way it is whole). What it left in the schema ' +
  `ml_rebuild is dropped by the next rebuild${advice}.\n`;
// Stopped by hand (kill, Ctrl-C): said as a failure is, and the server ends the statements it was
// running within a second (client_connection_check_interval, read-model-rebuild.ts). Once the
// rebuild has ended, a signal is the default's: there is nothing left to say of it.
const stoppedBy = (signal: 'SIGTERM' | 'SIGINT', code: number) => () => {
  // In the switch, its one transaction has committed or will not: the tables in use are whole either way.
  const said =
    last?.phase === 'switch'
      ? 'It was switching: the tables in use are the old ones or the new ones, whole (the switch is one transaction); ' +
        'what the rebuild left in the schema ml_rebuild, if anything, is dropped by the next rebuild.\n'
      : leftBehind('');
  process.stderr.write(`rebuild stopped by ${signal} ${stoppedAt()}.\n${said}`);
  process.exit(code);
};
const onSignal = { SIGTERM: stoppedBy('SIGTERM', 143), SIGINT: stoppedBy('SIGINT', 130) };
process.once('SIGTERM', onSignal.SIGTERM);
process.once('SIGINT', onSignal.SIGINT);
try {
  let reported = { phase: '', count: 0, seconds: 0 };
  const { cells, events } = await rebuildReadModel(db, (progress) => {
    last = progress;
    const { phase, events: read, cells: folded, seconds } = progress;
    const count = phase === 'fold' ? folded : read;
    // A line every so many cells or events, and at least every PROGRESS_SECONDS while cells are
    // finished: after a busy program's cells (minutes each), a count alone left the rebuild silent.
    const due = count - reported.count >= (phase === 'fold' ? 5_000 : 50_000) || seconds - reported.seconds >= PROGRESS_SECONDS;
    // The switch is said as it starts: appends wait from then until it ends, which "rebuilt" says.
    if (phase === reported.phase && (!due || phase === 'switch')) return;
    reported = { phase, count, seconds };
    // Catching up, the count is the events of the read model in all, not those folded in that round.
    const done = {
      queue: 'waiting for another rebuild to end, from',
      leftovers: "waiting for a stopped rebuild's statements to end on the tables it left (appends go on), from",
      read: `${read} events read in`,
      fold: `${folded} cells folded in`,
      vacuum: 'vacuuming and analyzing the new tables, from',
      index: 'building the indexes the fold went without, from',
      'catch-up': `${read} events in all in`,
      switch: 'folding what was recorded since the last round and putting the new tables in place (appends wait), from',
    }[phase];
    process.stdout.write(`${phase}: ${done} ${seconds.toFixed(1)} s\n`);
  }, undefined, config.rebuildWorkers);
  const seconds = (performance.now() - started) / 1000;
  // The last line gives the whole run's rate, however few chunks it took.
  process.stdout.write(`rebuilt ${cells} milestone cells from ${events} events in ${seconds.toFixed(1)} s (${rate(events, seconds)})\n`);
} catch (error) {
  // A database out of reach is said in two lines, not a stack (the probe of the rebuild at scale got
  // the raw DatabaseUnavailableError's); anything else in full, its stack and PL/pgSQL context
  // with it, as it will come again. Either way, what it leaves.
  const lost = error instanceof DatabaseUnavailableError;
  const cause = lost && error.cause instanceof Error && error.cause.message !== error.message ? ` (${error.cause.message})` : '';
  const said = lost ? `${error.message}${cause}` : inspect(error);
  process.stderr.write(`rebuild failed ${stoppedAt()}: ${said}\n${leftBehind(lost ? ': run it again once the database answers' : '')}`);
  process.exitCode = 1;
} finally {
  process.off('SIGTERM', onSignal.SIGTERM);
  process.off('SIGINT', onSignal.SIGINT);
  await db.destroy().catch(() => {});
}
