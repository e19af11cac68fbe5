import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Db } from '../../src/store/database.js';
import { readTimeline } from '../../src/store/event-store.js';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { onEachStatement } from '../support/statement-hook.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A timeline page whose first scan of the log falls short (retractions are not shown) scans again.
 * Whatever is committed between the scans, the page shows the log as it was at one moment.
 */

/** Runs the next of `steps` after each read of the log that joins retractions, before it returns. */
function interleaver() {
  let steps: (() => Promise<void>)[] = [];
  // The timeline's scans are sent already compiled (shaped statements): a plugin alone never saw them.
  const wrap = (db: Db): Db =>
    onEachStatement(db, async (query) => {
      if (!(query.sql.includes('"retraction" as "x"') && query.sql.includes('"occurred_start"'))) return;
      await steps.shift()?.();
    });
  return { wrap, arm: (next: (() => Promise<void>)[]) => (steps = next), left: () => steps.length };
}

const interleave = interleaver();
const t = useTestApp({ wrapDb: interleave.wrap });

const Page = z.object({ events: z.array(z.object({ id: z.string(), retracted: z.boolean() })) });

/**
 * A program whose timeline page of 10 is the two definitions, four early facts and four later ones,
 * with four retractions between them in world time: its first scan (12 rows) keeps only eight.
 */
async function programOfSeveralScans() {
  const programId = uniqueId('snap');
  const cell = { programId, milestone: 'm' };
  await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
  const fact = (day: string) => ({ type: 'evaluation.held', occurredAt: day, data: cell });
  const early = await record(t.app, ...['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04'].map(fact));
  const later = await record(t.app, ...Array.from({ length: 10 }, (_, n) => fact(`2026-02-${String(n + 1).padStart(2, '0')}`)));
  const undone = await record(t.app, ...['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04'].map(fact));
  await record(
    t.app,
    ...undone.map((e, n) => ({ type: 'event.retracted', occurredAt: `2026-01-1${n}`, data: { eventId: e.id, reason: 'duplicate' } })),
  );
  return { programId, early, later };
}

describe('GET /v1/timeline, a page of several scans', () => {
  it('shows each retraction committed between its scans on all of the page or none of it (PostgreSQL server only: PGlite runs one transaction at a time)', async () => {
    const { programId, early, later } = await programOfSeveralScans();
    // After each scan, one event of the first scan's range and one of a later scan's are retracted together.
    const pairs = [0, 1].map((n) => [early[n], later[n + 2]].map((e) => e?.id ?? ''));
    const retract = (ids: string[]) => async () => {
      await record(t.app, ...ids.map((eventId) => ({ type: 'event.retracted', occurredAt: '2026-06-01', data: { eventId, reason: 'wrong' } })));
    };
    if (t.database.concurrentTransactions) interleave.arm(pairs.map(retract));
    const response = await get(t.app, `/v1/timeline?programId=${programId}&limit=10`);
    // On a server, both retractions ran between scans: the page was read in several, as this test needs.
    const notRun = interleave.left();
    interleave.arm([]);
    expect(response.status).toBe(200);
    if (t.database.concurrentTransactions) expect(notRun).toBe(0);
    const { events } = Page.parse(response.body);
    expect(events).toHaveLength(10);
    const shown = new Map(events.map((e) => [e.id, e.retracted]));
    for (const [a = '', b = ''] of pairs) {
      expect([shown.has(a), shown.has(b)]).toEqual([true, true]);
      expect(shown.get(a), JSON.stringify(events)).toBe(shown.get(b));
    }
    // Where nothing can commit between the scans, none is retracted.
    if (!t.database.concurrentTransactions) expect(events.filter((e) => e.retracted)).toEqual([]);
  });

  it('reads the page as it is inside a transaction the caller opened', async () => {
    const { programId } = await programOfSeveralScans();
    const response = await get(t.app, `/v1/timeline?programId=${programId}&limit=10`);
    const viaHttp = Page.parse(response.body).events.map((e) => e.id);
    const inTransaction = await t.database.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute((trx) => readTimeline(trx, { programId }, undefined, 10));
    expect(inTransaction.rows.map((r) => r.event.id)).toEqual(viaHttp);
    expect(viaHttp).toHaveLength(10);
  });
});
