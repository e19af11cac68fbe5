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

  it('answers every combination of its filters and a cursor with the events each selects, in world-time order', async () => {
    // The timeline's scan is compiled once for each combination of the filters it is given
    // (src/store/shaped-statement.ts): each combination with a program or a consortium (the others
    // page through the whole store) is asked here in pages of 3, so with a cursor and without,
    // and checked against the events it should hold.
    const [p, q, c1, c2] = [uniqueId('tp'), uniqueId('tq'), uniqueId('c'), uniqueId('c')];
    const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
    const fact = (programId: string, consortiumId: string | undefined, n: number) => ({
      type: 'milestone.started',
      occurredAt: minute(n),
      data: { programId, milestone: consortiumId === undefined ? 'own' : 'each', ...(consortiumId !== undefined && { consortiumId }) },
    });
    const definitions = await record(
      t.app,
      ...[p, q].flatMap((programId) => [programRegistered(programId), milestonePlanned(programId, 'own', 'program', '2030'), milestonePlanned(programId, 'each', 'consortium', '2030')]),
      consortiumRegistered(c1),
      consortiumRegistered(c2),
      consortiumEnrolled(c1, p),
      consortiumEnrolled(c2, p),
      consortiumEnrolled(c1, q),
    );
    // c1 is enrolled in both programs, c2 in p only; a fact without a consortium is the program's own.
    const consortiumOf = (programId: string, n: number) => (programId === q ? [c1, undefined][n % 2] : [c1, c2, undefined][n % 3]);
    const first = await record(t.app, ...Array.from({ length: 12 }, (_, n) => (n % 3 === 0 ? q : p)).map((programId, n) => fact(programId, consortiumOf(programId, n), 10 * n)));
    // Recorded later, most of them earlier in world time than the first batch's last.
    const later = await record(t.app, ...Array.from({ length: 12 }, (_, n) => (n % 2 === 0 ? p : q)).map((programId, n) => fact(programId, consortiumOf(programId, n + 1), 10 * n + 5)));
    const stored = [...definitions, ...first, ...later];
    type Stored = (typeof stored)[number];
    const knownAt = first.at(-1)?.recordedAt ?? '';
    const text = (e: Stored, key: string) => (typeof e.data[key] === 'string' ? e.data[key] : undefined);
    const subjects = [
      { query: `programId=${p}`, keeps: (e: Stored) => text(e, 'programId') === p },
      { query: `consortiumId=${c1}`, keeps: (e: Stored) => text(e, 'consortiumId') === c1 },
      { query: `programId=${p}&consortiumId=${c1}`, keeps: (e: Stored) => text(e, 'programId') === p && text(e, 'consortiumId') === c1 },
    ];
    const filters = [
      { query: `from=${minute(30)}`, keeps: (e: Stored) => e.occurredAt.start >= minute(30) },
      { query: `to=${minute(90)}`, keeps: (e: Stored) => e.occurredAt.start <= minute(90) },
      { query: `asOf=${minute(100)}`, keeps: (e: Stored) => e.occurredAt.start <= minute(100) },
      { query: `knownAt=${encodeURIComponent(knownAt)}`, keeps: (e: Stored) => e.recordedAt <= knownAt },
    ];
    const worldOrder = (a: Stored, b: Stored) => a.occurredAt.start.localeCompare(b.occurredAt.start) || a.position - b.position;
    let answered = 0;
    for (const subject of subjects) {
      for (let mask = 0; mask < 1 << filters.length; mask++) {
        const chosen = [subject, ...filters.filter((_, i) => (mask & (1 << i)) !== 0)];
        const query = chosen.map((f) => f.query).join('&');
        const expected = stored.filter((e) => chosen.every((f) => f.keeps(e))).sort(worldOrder);

        const pages = await allPages(`/v1/timeline?${query}`, 3);

        expect(pages.flat().map((e) => e.id), query).toEqual(expected.map((e) => e.id));
        if (expected.length > 0) answered++;
      }
    }
    // Most combinations select something: the comparisons are not of empty pages.
    expect(answered).toBeGreaterThan(36);
  }, 120_000);
});
