import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const Page = z.object({
  events: z.array(z.object({ id: z.string(), type: z.string(), position: z.int(), occurredAt: z.object({ start: z.string() }), retracted: z.boolean() })),
  nextCursor: z.string().optional(),
});

async function allPages(url: string, limit: number) {
  const pages: z.infer<typeof Page>['events'][] = [];
  let after: string | undefined;
  for (;;) {
    const response = await get(t.app, `${url}&limit=${limit}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
    expect(response.status).toBe(200);
    const page = Page.parse(response.body);
    pages.push(page.events);
    if (page.nextCursor === undefined) return pages;
    after = page.nextCursor;
  }
}

describe('GET /v1/timeline, paged', () => {
  it('returns a timeline of 5,000 events in pages of at most `limit`, every event exactly once, in world-time order', async () => {
    const programId = uniqueId('tl');
    const consortiumId = uniqueId('c');
    await record(
      t.app,
      programRegistered(programId),
      milestonePlanned(programId, 'm', 'consortium', '2030'),
      consortiumRegistered(consortiumId),
      consortiumEnrolled(consortiumId, programId),
    );
    const ids: string[] = [];
    const recordedAt: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const stored = await record(
        t.app,
        ...Array.from({ length: 1000 }, (_, k) => {
          const n = batch * 1000 + k;
          // One in seven arrives a day late in world time.
          const day = n % 7 === 6 ? n - 1440 : n;
          return {
            type: n % 2 === 0 ? 'milestone.started' : 'milestone.achieved',
            occurredAt: new Date(Date.UTC(2026, 0, 1) + day * 60_000).toISOString(),
            data: { programId, milestone: 'm', consortiumId },
          };
        }),
      );
      ids.push(...stored.map((e) => e.id));
      recordedAt.push(stored[0]?.recordedAt ?? '');
    }
    const retracted = ids.filter((_, i) => i % 500 === 0);
    await record(t.app, ...retracted.map((eventId) => ({ type: 'event.retracted', data: { eventId, reason: 'wrong' }, occurredAt: '2026-02' })));

    const pages = await allPages(`/v1/timeline?programId=${programId}`, 333);

    expect(pages.every((page) => page.length <= 333)).toBe(true);
    const seen = pages.flat();
    // The definitions with a program (the registration, the plan, the enrolment), the 5,000 facts; no retraction.
    expect(seen).toHaveLength(3 + 5000);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(ids.every((id) => seen.some((e) => e.id === id))).toBe(true);
    expect(seen.filter((e) => e.retracted).map((e) => e.id).sort()).toEqual([...retracted].sort());
    const order = seen.map((e) => [Date.parse(e.occurredAt.start), e.position] as const);
    expect(order.every(([start, position], i) => i === 0 || start > (order[i - 1]?.[0] ?? 0) || (start === order[i - 1]?.[0] && position > (order[i - 1]?.[1] ?? 0)))).toBe(true);

    // Known by the third batch: exactly the events recorded by then, in pages that may be short.
    const known = (await allPages(`/v1/timeline?programId=${programId}&knownAt=${recordedAt[2]}`, 100)).flat();
    const definitions = seen.filter((e) => !ids.includes(e.id)).map((e) => e.id);
    expect(known.map((e) => e.id).sort()).toEqual([...definitions, ...ids.slice(0, 3000)].sort());
    expect(known.some((e) => e.retracted)).toBe(false);
  }, 120_000);
});
