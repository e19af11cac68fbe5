import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { rebuildReadModel, type RebuildProgress } from '../../src/store/read-model-rebuild.js';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { record } from '../support/http.js';
import { readModelRowsOf } from '../support/read-model-rows.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('rebuildReadModel on a cell holding more than a chunk of events', () => {
  it('folds its history over several transactions, each about a chunk and never through an append, saying so after each, and writes the very rows the appends wrote', async () => {
    const programId = uniqueId('busy');
    const consortium = uniqueId('c');
    const cell = { programId, milestone: 'm-busy' };
    const pilot = { programId, milestone: 'm-pilot', consortiumId: consortium };
    await record(
      t.app,
      programRegistered(programId),
      milestonePlanned(programId, 'm-a', 'program', '2030'),
      milestonePlanned(programId, 'm-busy', 'program', '2030'),
      milestonePlanned(programId, 'm-pilot', 'consortium', '2030'),
      consortiumRegistered(consortium),
      consortiumEnrolled(consortium, programId),
    );
    // Appends of one to four facts each, mostly in world-time order; every fifth late, every seventh
    // a retraction of the one before it, one a reschedule, one an elimination of the consortium.
    let recordedFacts = 0;
    let previous: string | undefined;
    for (let n = 0; n < 60; n++) {
      const day = (d: number) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
      if (n % 7 === 6 && previous !== undefined) {
        await record(t.app, { type: 'event.retracted', data: { eventId: previous, reason: 'wrong' } });
        continue;
      }
      if (n === 30) await record(t.app, { type: 'milestone.rescheduled', occurredAt: day(n), data: { programId, milestone: 'm-busy', due: '2031' } });
      if (n === 50) await record(t.app, { type: 'consortium.eliminated', occurredAt: day(n), data: { consortiumId: consortium, programId } });
      const facts = Array.from({ length: 1 + (n % 4) }, (_, k) => ({
        type: k % 2 === 0 ? 'evaluation.held' : 'milestone.started',
        occurredAt: n % 5 === 4 ? day(k) : day(2 * n + k),
        data: n % 3 === 0 ? pilot : cell,
      }));
      const written = await record(t.app, ...facts);
      recordedFacts += written.length;
      previous = written[0]?.id;
    }
    expect(recordedFacts).toBeGreaterThan(100);
    // A small cell just before the busy one in key order: a chunk of several cells must end before the busy one.
    await record(t.app, { type: 'evaluation.held', occurredAt: '2026-02-01', data: { programId, milestone: 'm-a' } });
    const rows = () => readModelRowsOf(t.database.db, programId);
    const before = await rows();
    const { rows: busiest } = await sql<{ events: number }>`
      select count(*)::int as events from cell_evidence where program_id = ${programId} and milestone = 'm-busy'`.execute(t.database.db);
    // Up to two cells a chunk (a tenth of its events).
    const chunk = 20;
    expect(busiest[0]?.events).toBeGreaterThan(3 * chunk);

    const progress: RebuildProgress[] = [];
    await rebuildReadModel(t.database.db, (p) => progress.push(p), chunk, t.database.concurrentTransactions ? 2 : 1);

    expect(await rows()).toEqual(before);
    // A report after each transaction of the fold: the busy cells' slices as well as whole cells,
    // so more reports than cells; each slice about a chunk, so at least as many as the busiest cell has chunks.
    const folds = progress.filter((p) => p.phase === 'fold');
    const cells = folds.at(-1)?.cells ?? 0;
    expect(folds.length).toBeGreaterThanOrEqual(cells + Math.floor((busiest[0]?.events ?? 0) / (chunk + 4)));
  }, 120_000);

  it('folds a cell of more than 100 events in slices of at most 100 whatever the chunk, each its own transaction: in one, a cell fed out of order re-read every version it had written (probe of the embedded database, 2026-12-07)', async () => {
    const programId = uniqueId('dense');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm-dense', 'program', '2030'));
    const events = 250;
    for (let n = 0; n < events; n++) {
      // Spread over eight days, out of order: most are late.
      const at = new Date(Date.UTC(2026, 2, 1) + ((n * 7919) % 192) * 3_600_000).toISOString().slice(0, 19);
      await record(t.app, { type: 'evaluation.held', occurredAt: `${at}Z`, data: { programId, milestone: 'm-dense' } });
    }
    const rows = () => readModelRowsOf(t.database.db, programId);
    const before = await rows();

    const progress: RebuildProgress[] = [];
    // The default chunk (5,000 events), which holds the whole cell.
    await rebuildReadModel(t.database.db, (p) => progress.push(p));

    expect(await rows()).toEqual(before);
    // A report after each slice of the dense cell (three of at most 100), the count of cells folded
    // unchanged between them; in one transaction, one report for the cell's whole chunk.
    const counts = progress.filter((p) => p.phase === 'fold').map((p) => p.cells);
    let run = 0;
    let longestRun = 0;
    counts.forEach((count, i) => {
      run = i > 0 && counts[i - 1] === count ? run + 1 : 1;
      longestRun = Math.max(longestRun, run);
    });
    expect(longestRun).toBeGreaterThanOrEqual(Math.ceil(events / 100));
  }, 180_000);
});
