import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { get, record } from '../support/http.js';
import { programWithConsortium } from '../support/events.js';
import { useTestApp } from '../support/test-app.js';

/*
 * README, Paging: `nextCursor` is absent on the last page. A page that happens to be full is the last
 * one when nothing follows it: a cursor there would lead a client to an empty page (and a CSV client
 * to a Link to one).
 */

const t = useTestApp();

const Listed = z.array(z.object({ id: z.string() }).or(z.object({ programId: z.string() })).or(z.object({ consortiumId: z.string() })));

/** Every page of a list, following nextCursor: the number of items on each page. */
async function pageSizes(path: string, field: string, limit: number): Promise<number[]> {
  const sizes: number[] = [];
  let after = '';
  for (let i = 0; i < 50; i++) {
    const response = await get(t.app, `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${after}`);
    expect(response.status).toBe(200);
    const body = z.record(z.string(), z.unknown()).parse(response.body);
    sizes.push(Listed.parse(body[field]).length);
    const next = z.string().optional().parse(body.nextCursor);
    if (next === undefined) return sizes;
    after = `&after=${encodeURIComponent(next)}`;
  }
  throw new Error(`${path}: more than 50 pages`);
}

describe('the last page of a list', () => {
  it('has no nextCursor when it is full and nothing follows: programs, consortiums, a timeline, a cell\'s evidence', async () => {
    const a = programWithConsortium('lp');
    const b = programWithConsortium('lp');
    await record(t.app, ...a.events, ...b.events);
    const facts = ['2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04'].map((occurredAt) => ({
      type: 'milestone.started',
      occurredAt,
      data: { programId: a.programId, milestone: 'defense-pilot', consortiumId: a.consortiumId },
    }));
    await record(t.app, ...facts);
    const lists = [
      { path: '/v1/programs', field: 'programs' },
      { path: '/v1/consortiums', field: 'consortiums' },
      { path: `/v1/timeline?consortiumId=${a.consortiumId}`, field: 'events' },
      { path: `/v1/programs/${a.programId}/milestones/defense-pilot/evidence?consortiumId=${a.consortiumId}`, field: 'evidence' },
    ];

    for (const { path, field } of lists) {
      const [total = 0] = await pageSizes(path, field, 1000);
      // Two or more items (two programs, two consortiums, the consortium's 2 definitions and 4 facts,
      // 4 evidence entries), so that pages of half of them are full and two.
      expect(total, path).toBeGreaterThanOrEqual(2);
      expect(await pageSizes(path, field, total), path).toEqual([total]);
      if (total % 2 === 0) expect(await pageSizes(path, field, total / 2), path).toEqual([total / 2, total / 2]);
      else expect(await pageSizes(path, field, total - 1), path).toEqual([total - 1, 1]);
    }
  });
});
