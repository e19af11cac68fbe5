import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { rebuildReadModel, type RebuildProgress } from '../../src/store/read-model-rebuild.js';
import { programWithConsortium } from '../support/events.js';
import { record } from '../support/http.js';
import { readModelRowsOf } from '../support/read-model-rows.js';
import { slowRebuildRefolds } from '../support/slow-rebuild-refolds.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

/** What the fold waits on, in the rebuild's sessions only, while this test holds it. */
const GATE = 47_110_815;
/** What a re-fold costs the rebuild, and the rebuild only, here: appends go at their own pace. */
const REFOLD_SECONDS = 0.03;
const LATE_FACTS = 50;

describe('rebuildReadModel catching up', () => {
  it('catches up again after a round that took long, though it folded few events, so that the switch folds, holding appends, only what a short round left (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    if (t.database.url === undefined) {
      expect(t.database.concurrentTransactions).toBe(false);
      return;
    }
    const scenario = programWithConsortium('catch-up');
    await record(t.app, ...scenario.events);
    const cell = { programId: scenario.programId, milestone: 'final-evaluation' };
    await record(t.app, { type: 'evaluation.held', occurredAt: '2026-06-01', data: cell });
    // Late facts are what made a round slow at scale: the rebuild's re-folds wait at the gate, then take a while.
    const restore = await slowRebuildRefolds(t.database.db, { seconds: REFOLD_SECONDS, gate: GATE });
    const progress: RebuildProgress[] = [];
    let rebuilt: Promise<unknown> = Promise.resolve();
    try {
      await t.database.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${GATE})`.execute(trx);
        rebuilt = rebuildReadModel(t.database.db, (p) => progress.push(p), 1000);
        // The fold waits at the gate; meanwhile, late facts, each recorded a day earlier than the one before.
        await expect
          .poll(async () => {
            const { rows } = await sql<{ waiting: boolean }>`
              select exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.objid = ${GATE} and not l.granted) as waiting`.execute(t.database.db);
            return rows[0]?.waiting;
          }, { timeout: 30_000 })
          .toBe(true);
        for (let n = 0; n < LATE_FACTS; n++) {
          await record(t.app, { type: 'evaluation.held', occurredAt: new Date(Date.UTC(2026, 4, 1) - n * 86_400_000).toISOString().slice(0, 10), data: cell });
        }
      });
      const before = await readModelRowsOf(t.database.db, scenario.programId);
      await rebuilt;

      // The first round folded the late facts, a re-fold each: at least LATE_FACTS × REFOLD_SECONDS,
      // though fewer events than a backlog counts as many.
      const rounds = progress.filter((p) => p.phase === 'catch-up');
      const folded = (rounds[0]?.events ?? 0) - (progress.find((p) => p.phase === 'index')?.events ?? 0);
      expect(folded).toBe(LATE_FACTS);
      // Another round came after it, and the switch after a round that took less than a second.
      expect(rounds.length).toBeGreaterThanOrEqual(2);
      const [beforeLast, last] = progress.slice(-3, -1);
      expect(last?.phase).toBe('catch-up');
      expect((last?.seconds ?? Infinity) - (beforeLast?.seconds ?? 0)).toBeLessThan(1);
      expect(progress.at(-1)?.phase).toBe('switch');
      // And the rows are the appends' own.
      expect(await readModelRowsOf(t.database.db, scenario.programId)).toEqual(before);
    } finally {
      await rebuilt.catch(() => {});
      await restore();
    }
  }, 120_000);
});
