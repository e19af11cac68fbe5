import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { rebuildReadModel, type RebuildProgress } from '../../src/store/read-model-rebuild.js';
import { programWithConsortium } from '../support/events.js';
import { record } from '../support/http.js';
import { readModelRowsOf } from '../support/read-model-rows.js';
import { slowRebuildRefolds } from '../support/slow-rebuild-refolds.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

/** What the fold waits on, in the rebuild's sessions only, while a test holds it. */
const GATE = 47_110_815;
const DAY_MS = 86_400_000;

/**
 * A rebuild of a program's history whose re-folds, the rebuild's alone, take `refoldSeconds` each
 * (late facts are what made a round slow at scale): while its fold waits at the gate, `gated` late
 * facts go into one cell, each dated a day before the one before; once the gate opens, up to
 * `meanwhile` more, one after another, while the rebuild goes on. Returns its reports, the catch-up
 * rounds' durations (each from the report before it; the first from the index builds' start), and
 * whether its rows are those the appends wrote before the gate opened (with no `meanwhile`).
 */
async function rebuildWithLateFacts(name: string, refoldSeconds: number, gated: number, meanwhile: number) {
  const scenario = programWithConsortium(name);
  await record(t.app, ...scenario.events);
  const cell = { programId: scenario.programId, milestone: 'final-evaluation' };
  let day = 0;
  const lateFact = () => record(t.app, { type: 'evaluation.held', occurredAt: new Date(Date.UTC(2026, 4, 1) - day++ * DAY_MS).toISOString().slice(0, 10), data: cell });
  const restore = await slowRebuildRefolds(t.database.db, { seconds: refoldSeconds, gate: GATE });
  const progress: RebuildProgress[] = [];
  let rebuilt: Promise<unknown> = Promise.resolve();
  try {
    await t.database.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${GATE})`.execute(trx);
      rebuilt = rebuildReadModel(t.database.db, (p) => progress.push(p), 1000);
      await expect
        .poll(async () => {
          const { rows } = await sql<{ waiting: boolean }>`
            select exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.objid = ${GATE} and not l.granted) as waiting`.execute(t.database.db);
          return rows[0]?.waiting;
        }, { timeout: 30_000 })
        .toBe(true);
      for (let n = 0; n < gated; n++) await lateFact();
    });
    // Read before the switch, which comes only after the gated late facts' re-folds, a while each.
    const before = await readModelRowsOf(t.database.db, scenario.programId);
    let done = false;
    const writing = (async () => {
      for (let n = 0; n < meanwhile && !done; n++) await lateFact();
    })();
    await rebuilt.finally(() => (done = true));
    await writing;
    const rounds = progress.filter((p) => p.phase === 'catch-up');
    const started = progress.find((p) => p.phase === 'index');
    const durations = rounds.map((round, i) => round.seconds - (i === 0 ? (started?.seconds ?? 0) : (rounds[i - 1]?.seconds ?? 0)));
    const same = JSON.stringify(await readModelRowsOf(t.database.db, scenario.programId)) === JSON.stringify(before);
    return { progress, rounds, durations, sameRows: same };
  } finally {
    await rebuilt.catch(() => {});
    await restore();
  }
}

describe('rebuildReadModel catching up', () => {
  it('catches up again after a round that took long, though it folded few events, so that the switch folds, holding appends, only what a short round left (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const lateFacts = 50;
    const { progress, rounds, durations, sameRows } = await rebuildWithLateFacts('catch-up', 0.03, lateFacts, 0);

    // The first round folded the late facts, a re-fold each: at least 1.5 s, though fewer events
    // than a backlog counts as many.
    expect((rounds[0]?.events ?? 0) - (progress.find((p) => p.phase === 'index')?.events ?? 0)).toBe(lateFacts);
    expect(durations[0]).toBeGreaterThanOrEqual(1.5);
    // Another round came after it, and the switch after one that took less than a second.
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(durations.at(-1)).toBeLessThan(1);
    expect(progress.map((p) => p.phase).slice(-2)).toEqual(['switch', 'switch']);
    expect(sameRows).toBe(true);
  }, 120_000);

  it('switches once a round takes no less time than the one before, as when writers record late facts faster than it folds them: going on would leave the switch more (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    // A re-fold of the rebuild's takes 50 ms; an append, a few: the writer outpaces the catch-up.
    const { rounds, durations } = await rebuildWithLateFacts('outpaced', 0.05, 10, 150);

    expect(rounds.length).toBeGreaterThanOrEqual(2);
    // Every round that another followed was shorter than the one before it.
    expect(durations.slice(1, -1).filter((d, i) => d >= (durations[i] ?? 0))).toEqual([]);
  }, 120_000);
});
