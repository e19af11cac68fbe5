import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Db } from '../../src/store/database.js';
import { milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A timeline page whose first scan of the log falls short (retractions are not shown) scans again.
 * Whatever is committed between the scans, the page shows the log as it was at one moment.
 */

/** Runs `between` once, after the next read of the log that joins retractions, before it returns. */
function interleaver() {
  let between: (() => Promise<void>) | undefined;
  const wrap = (db: Db): Db => {
    const executor = db.getExecutor();
    const timelineScans = new Set<unknown>();
    const plugin: KyselyPlugin = {
      transformQuery: ({ node, queryId }) => {
        const { sql } = executor.compileQuery(node, queryId);
        if (sql.includes('"retraction" as "x"') && sql.includes('"occurred_start"')) timelineScans.add(queryId);
        return node;
      },
      transformResult: async ({ result, queryId }) => {
        const run = between;
        if (timelineScans.delete(queryId) && run !== undefined) {
          between = undefined;
          await run();
        }
        return result;
      },
    };
    return db.withPlugin(plugin);
  };
  return { wrap, arm: (run: () => Promise<void>) => (between = run) };
}

const interleave = interleaver();
const t = useTestApp({ wrapDb: interleave.wrap });

const Page = z.object({ events: z.array(z.object({ id: z.string(), retracted: z.boolean() })) });

describe('GET /v1/timeline, a page of several scans', () => {
  it('shows a retraction committed between its scans on all of the page or none of it (PostgreSQL server only: PGlite runs one transaction at a time)', async () => {
    const programId = uniqueId('snap');
    const cell = { programId, milestone: 'm' };
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm', 'program', '2030'));
    const fact = (day: string) => ({ type: 'evaluation.held', occurredAt: day, data: cell });
    const early = await record(t.app, ...['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04'].map(fact));
    const later = await record(t.app, ...Array.from({ length: 10 }, (_, n) => fact(`2026-02-${String(n + 1).padStart(2, '0')}`)));
    // Four retractions between them in world time: the first scan (limit + 1 rows) keeps only five events.
    const undone = await record(t.app, ...['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04'].map(fact));
    await record(
      t.app,
      ...undone.map((e, n) => ({ type: 'event.retracted', occurredAt: `2026-01-1${n}`, data: { eventId: e.id, reason: 'duplicate' } })),
    );
    const [first] = early;
    const [, second] = later;
    if (first === undefined || second === undefined) throw new Error('the facts were not recorded');

    if (t.database.concurrentTransactions) interleave.arm(async () => {
      await record(
        t.app,
        ...[first, second].map((e) => ({ type: 'event.retracted', occurredAt: '2026-06-01', data: { eventId: e.id, reason: 'wrong' } })),
      );
    });
    const response = await get(t.app, `/v1/timeline?programId=${programId}&limit=8`);
    expect(response.status).toBe(200);
    const { events } = Page.parse(response.body);
    const shown = new Map(events.map((e) => [e.id, e.retracted]));
    // Both on the page: the first from the first scan, the second from the next one.
    expect([shown.has(first.id), shown.has(second.id)]).toEqual([true, true]);
    expect(events).toHaveLength(8);
    expect(shown.get(first.id), JSON.stringify(events)).toBe(shown.get(second.id));
    // Where nothing can commit between the scans, neither is retracted.
    if (!t.database.concurrentTransactions) expect(shown.get(first.id)).toBe(false);
  });
});
