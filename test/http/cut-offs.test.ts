import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { programWithConsortium } from '../support/events.js';
import { bearer, get, inject, problemOf, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { cell } from '../support/views.js';

/* SPEC §2.1: cut-offs and range ends given in a calendar form mean what a person means by them. */

const t = useTestApp();

describe('cut-offs and ranges in calendar forms', () => {
  it('takes from=2026-06&to=2026-06 as all of June: an event of 20 June in, one of 1 July out', async () => {
    const { programId, events } = programWithConsortium('june');
    await record(t.app, ...events);
    const [june20, july1, may31] = await record(
      t.app,
      { type: 'seminar.held', occurredAt: '2026-06-20', data: { programId, title: 'Daejeon seminar' } },
      { type: 'seminar.held', occurredAt: '2026-07-01', data: { programId, title: 'July seminar' } },
      { type: 'seminar.held', occurredAt: '2026-05-31T23:59:59Z', data: { programId, title: 'May seminar' } },
    );

    const response = await get(t.app, `/v1/timeline?programId=${programId}&from=2026-06&to=2026-06`);

    expect(response.status).toBe(200);
    const ids = z.object({ events: z.array(z.object({ id: z.string() })) }).parse(response.body).events.map((e) => e.id);
    expect(ids).toContain(june20?.id);
    expect(ids).not.toContain(july1?.id);
    expect(ids).not.toContain(may31?.id);
  });

  it.each([
    ['from=2026-07&to=2026-06', "to=2026-06 ends before from=2026-07 begins"],
    ['from=2026-06-10T00:00:00.001Z&to=2026-06-10T00:00:00Z', 'to=2026-06-10T00:00:00Z ends before from=2026-06-10T00:00:00.001Z begins'],
  ])('refuses a range that ends before it begins (%s) with a 400 naming to, rather than an empty page', async (range, detail) => {
    const { programId, events } = programWithConsortium('swapped');
    await record(t.app, ...events);

    const response = await get(t.app, `/v1/timeline?programId=${programId}&${range}`);
    const oneInstant = await get(t.app, `/v1/timeline?programId=${programId}&from=2026-06-10T00:00:00Z&to=2026-06-10T00:00:00Z`);

    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({ type: '/problems/validation-failed', errors: [{ parameter: 'to', detail: expect.stringContaining(detail) }] });
    expect(oneInstant.status).toBe(200);
  });

  it('says a program or consortium not registered at a cut-off may have been later, naming the cut-off, where a 404 read as a wrong id', async () => {
    const { programId, consortiumId, events } = programWithConsortium('later');
    await record(t.app, ...events);

    const program = await get(t.app, `/v1/programs/${programId}/milestones?asOf=2025-01`);
    const consortium = await get(t.app, `/v1/consortiums/${consortiumId}/status?knownAt=2026-01-01`);
    const timeline = await get(t.app, `/v1/timeline?programId=${programId}&asOf=2025-01&knownAt=2026-01-01`);
    const typo = await get(t.app, `/v1/programs/${programId}x`);
    const evidence = await get(t.app, `/v1/programs/${programId}/milestones/final-evaluation/evidence?asOf=2025-01`);

    expect(program.status).toBe(404);
    expect(problemOf(program).detail).toBe(`no program '${programId}': not registered at the cut-off (asOf 2025-01-31T23:59:59.999Z); it may have been later: ask without the cut-off to see`);
    expect(problemOf(consortium).detail).toBe(`no consortium '${consortiumId}': not registered at the cut-off (knownAt 2026-01-01T23:59:59.999Z); it may have been later: ask without the cut-off to see`);
    expect(problemOf(timeline).detail).toContain('(asOf 2025-01-31T23:59:59.999Z, knownAt 2026-01-01T23:59:59.999Z)');
    expect(problemOf(evidence).detail).toBe(problemOf(program).detail);
    // Without a cut-off, no such hint: the id is wrong, and the nearest one is named.
    expect(problemOf(typo).detail).toMatch(new RegExp(`^no program '${programId}x'; did you mean '${programId}'`));
  });

  it('says the instant it judged overdue and certainty at: the asOf as resolved, or the moment of the request without one, in JSON and on every CSV row', async () => {
    const { programId, consortiumId, events } = programWithConsortium('judged');
    await record(t.app, ...events);
    const urls = [`/v1/programs/${programId}/milestones`, `/v1/programs/${programId}/milestones/defense-pilot`, `/v1/consortiums/${consortiumId}/status`];

    for (const url of urls) {
      const before = Date.now();
      const current = z.object({ judgedAt: z.string() }).parse((await get(t.app, url)).body).judgedAt;
      const after = Date.now();
      const asOf = z.object({ judgedAt: z.string() }).parse((await get(t.app, `${url}?asOf=2026-06`)).body).judgedAt;
      const csv = await inject(t.app, { url: `${url}?asOf=2026-06`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
      const rows = z.array(z.object({ judgedAt: z.string() })).parse(parse(csv.body, { columns: true }));

      // The last instant the request's moment covers, as an asOf is echoed: asked again as asOf, the same bound.
      expect(Date.parse(current), url).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(current), url).toBeLessThanOrEqual(after - 1);
      expect(asOf, url).toBe('2026-06-30T23:59:59.999Z');
      expect(rows.length, url).toBeGreaterThan(0);
      expect(new Set(rows.map((row) => row.judgedAt)), url).toEqual(new Set(['2026-06-30T23:59:59.999Z']));
    }
  });

  it('says a 2026-Q2 pilot start is in progress but not certain as of 15 May, and certain as of 15 July', async () => {
    const { programId, consortiumId, events } = programWithConsortium('q2');
    await record(t.app, ...events);
    await record(t.app, { type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId, milestone: 'defense-pilot' } });

    const may = await cell(t.app, programId, 'defense-pilot', consortiumId, '?asOf=2026-05-15');
    const july = await cell(t.app, programId, 'defense-pilot', consortiumId, '?asOf=2026-07-15');

    expect(may).toMatchObject({ status: 'in_progress', since: { value: '2026-Q2' }, certain: false });
    expect(july).toMatchObject({ status: 'in_progress', since: { value: '2026-Q2' }, certain: true });
  });

  it('counts a June completion as certain as of June, and echoes the instants it resolved the cut-offs to', async () => {
    const { programId, consortiumId, events } = programWithConsortium('echo');
    await record(t.app, ...events);
    const [done] = await record(t.app, { type: 'pilot.completed', occurredAt: '2026-06', data: { programId, consortiumId, milestone: 'defense-pilot' } });

    const response = await get(t.app, `/v1/programs/${programId}/milestones/defense-pilot?asOf=2026-06&knownAt=${done?.recordedAt ?? ''}`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      cutoff: { asOf: '2026-06-30T23:59:59.999Z', knownAt: done?.recordedAt },
      cells: [{ consortiumId, status: 'achieved', certain: true }],
    });
    const before = await get(t.app, `/v1/programs/${programId}/milestones/defense-pilot?asOf=2026-05`);
    expect(before.body).toMatchObject({ cutoff: { asOf: '2026-05-31T23:59:59.999Z' }, cells: [{ status: 'planned' }] });
  });
});
