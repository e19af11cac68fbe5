import { setTimeout as sleep } from 'node:timers/promises';
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
 * A rebuild of a program's history whose re-folds of that program's cells, the rebuild's alone,
 * take `refoldSeconds` each (late facts are what made a round slow at scale): while its fold waits at
 * the gate, `gated` late facts go into one cell, each dated a day before the one before; once the
 * gate opens, a writer records one more every `paceMs` (0: none) until the rebuild ends, up to
 * `most`. Returns its reports, the catch-up rounds' durations (each from the report before it; the
 * first from the index builds' start), and whether its rows are those the appends wrote before the
 * gate opened (with no writer).
 */
async function rebuildWithLateFacts(name: string, { refoldSeconds, gated, paceMs = 0, most = 0 }: { refoldSeconds: number; gated: number; paceMs?: number; most?: number }) {
  const scenario = programWithConsortium(name);
  await record(t.app, ...scenario.events);
  const cell = { programId: scenario.programId, milestone: 'final-evaluation' };
  let day = 0;
  const lateFact = () => record(t.app, { type: 'evaluation.held', occurredAt: new Date(Date.UTC(2026, 4, 1) - day++ * DAY_MS).toISOString().slice(0, 10), data: cell });
  const restore = await slowRebuildRefolds(t.database.db, { seconds: refoldSeconds, gate: GATE, programId: scenario.programId });
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
      for (let n = 0; n < most && !done; n++) {
        await lateFact();
        await sleep(paceMs);
      }
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
    const { progress, rounds, durations, sameRows } = await rebuildWithLateFacts('catch-up', { refoldSeconds: 0.03, gated: lateFacts });

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

  it('switches once a round takes clearly longer than the one before, as when writers record late facts faster than it folds them: going on would leave the switch more (PostgreSQL server only)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    // A re-fold of the rebuild's takes 50 ms; a writer records a late fact every 20 ms or so: each
    // round folds what came during the one before, about two and a half times as much. The gated
    // ones make the first round take over a second, so that a second comes.
    const { rounds, durations } = await rebuildWithLateFacts('outpaced', { refoldSeconds: 0.05, gated: 25, paceMs: 20, most: 400 });

    expect(rounds.length).toBeGreaterThanOrEqual(2);
    // Every round another followed took less than 1.25 times the one before it: a round that grew
    // so was the last.
    expect(durations.slice(1, -1).filter((d, i) => d >= 1.25 * (durations[i] ?? 0))).toEqual([]);
  }, 120_000);
});
