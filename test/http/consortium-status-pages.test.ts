import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { bearer, get, inject, record, TEST_ADMIN_KEY } from '../support/http.js';
import { costOf, statementRecorder } from '../support/statement-cost.js';
import { useTestApp } from '../support/test-app.js';

/*
 * SPEC §5: every list is paged, so that no answer grows with the history. A consortium's status
 * lists each program it is in, a list that grows with every enrolment: it comes a page at a time,
 * in the order of the enrolments, each program with its cells.
 */

const recorder = statementRecorder();
const t = useTestApp({ wrapDb: recorder.wrap });

const Status = z.object({
  programs: z.array(z.object({ program: z.object({ programId: z.string() }), milestones: z.array(z.object({ milestone: z.string(), consortiumId: z.string().optional() })) })),
  nextCursor: z.string().optional(),
});

/** The day of the nth enrolment: one on each of the first three days of 2026, then two a day. */
const enrolmentDay = (n: number) => new Date(Date.UTC(2026, 0, 1) + (n < 3 ? n : 3 + Math.floor((n - 3) / 2)) * 86_400_000).toISOString().slice(0, 10);

/** A consortium enrolled in `count` programs, last id first (so that the order of enrolment is not that of ids), each program with a cell of either scope. */
async function consortiumInPrograms(count: number): Promise<{ consortiumId: string; programIds: string[] }> {
  const consortiumId = uniqueId('paged');
  const programIds = Array.from({ length: count }, (_, n) => `${consortiumId}-p${n}`);
  await record(t.app, consortiumRegistered(consortiumId));
  for (let from = 0; from < count; from += 100) {
    await record(t.app, ...programIds.slice(from, from + 100).flatMap((p) => [programRegistered(p), milestonePlanned(p, 'own', 'consortium', '2027'), milestonePlanned(p, 'shared', 'program', '2027')]));
  }
  const enrolments = [...programIds].reverse().map((p, n) => ({ ...consortiumEnrolled(consortiumId, p), occurredAt: enrolmentDay(n) }));
  for (let from = 0; from < count; from += 500) await record(t.app, ...enrolments.slice(from, from + 500));
  return { consortiumId, programIds };
}

async function allPages(url: string, limit: number): Promise<z.infer<typeof Status>[]> {
  const pages = [];
  let after: string | undefined;
  do {
    const response = await get(t.app, `${url}${url.includes('?') ? '&' : '?'}limit=${limit}${after === undefined ? '' : `&after=${after}`}`);
    expect(response.status, url).toBe(200);
    const page = Status.parse(response.body);
    pages.push(page);
    after = page.nextCursor;
  } while (after !== undefined && pages.length < 100);
  return pages;
}

const programsOf = (pages: readonly z.infer<typeof Status>[]) => pages.flatMap((p) => p.programs.map((x) => x.program.programId));

describe("a consortium's status, a page at a time", () => {
  it('pages its programs in the order of their enrolment, each once with its cells, the last page without nextCursor; at a cut-off too', async () => {
    const { consortiumId, programIds } = await consortiumInPrograms(7);
    const url = `/v1/consortiums/${consortiumId}/status`;
    const whole = Status.parse((await get(t.app, `${url}?limit=1000`)).body);
    // Enrolled last id first: the order of enrolment, not of ids.
    expect(whole.programs.map((p) => p.program.programId)).toEqual([...programIds].reverse());
    expect(whole.nextCursor).toBeUndefined();

    const pages = await allPages(url, 2);
    expect(pages.map((p) => p.programs.length)).toEqual([2, 2, 2, 1]);
    expect(pages.at(-1)?.nextCursor).toBeUndefined();
    expect(programsOf(pages)).toEqual(whole.programs.map((p) => p.program.programId));
    // Each program with its own cell and the program-wide one, as unpaged.
    expect(pages.flatMap((p) => p.programs)).toEqual(whole.programs);
    expect(whole.programs.every((p) => p.milestones.map((m) => m.milestone).sort().join() === 'own,shared')).toBe(true);

    // As of the third day, three enrolments had happened: the rest are not listed, on any page.
    const early = await allPages(`${url}?asOf=2026-01-03`, 2);
    expect(programsOf(early)).toEqual(whole.programs.slice(0, 3).map((p) => p.program.programId));
    expect(early.map((p) => p.programs.length)).toEqual([2, 1]);
  });

  it('fills each page at a cut-off that leaves out a program registered, in world time, after its enrolment', async () => {
    const consortiumId = uniqueId('later');
    const [a, b, d] = ['a', 'b', 'd'].map((x) => `${consortiumId}-${x}`);
    await record(
      t.app,
      consortiumRegistered(consortiumId),
      programRegistered(a ?? ''),
      programRegistered(b ?? '', '2026-03'),
      programRegistered(d ?? ''),
      ...[a, b, d].map((p, n) => ({ ...consortiumEnrolled(consortiumId, p ?? ''), occurredAt: `2026-01-0${n + 1}` })),
    );
    const url = `/v1/consortiums/${consortiumId}/status`;

    expect(programsOf(await allPages(url, 1))).toEqual([a, b, d]);
    // As of February, b is not registered yet: not listed, and no page is left empty for it.
    const february = await allPages(`${url}?asOf=2026-02-01`, 1);
    expect(programsOf(february)).toEqual([a, d]);
    expect(february.map((p) => p.programs.length)).toEqual([1, 1]);
  });

  it('pages it in CSV by its Link header, the next page holding the programs that follow', async () => {
    const { consortiumId } = await consortiumInPrograms(3);
    const headers = { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) };
    const first = await inject(t.app, { url: `/v1/consortiums/${consortiumId}/status?limit=2`, headers });
    expect(first.statusCode).toBe(200);
    const link = String(first.headers.link ?? '');
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    expect(next, link).toMatch(new RegExp(`^/v1/consortiums/${consortiumId}/status\\?limit=2&after=`));
    const second = await inject(t.app, { url: next ?? '', headers });
    expect(second.statusCode).toBe(200);
    expect(second.headers.link).toBeUndefined();

    const programsIn = (csv: string) => new Set(csv.trim().split('\n').slice(1).map((line) => line.split(',')[1]));
    const [a, b] = [programsIn(first.body), programsIn(second.body)];
    expect(a.size).toBe(2);
    expect(b.size).toBe(1);
    expect([...a].some((p) => b.has(p))).toBe(false);
  });

  it("reads a page of a consortium's status, first or next, current or at a cut-off, without reading its other enrolments", async () => {
    const busy = await consortiumInPrograms(300);
    const quiet = await consortiumInPrograms(8);

    const costs = async (consortiumId: string) => {
      const url = `/v1/consortiums/${consortiumId}/status?limit=3`;
      recorder.take();
      const first = await get(t.app, url);
      const firstCost = await costOf(t.database.db, recorder.take());
      const after = Status.parse(first.body).nextCursor;
      const out = [firstCost.tuples];
      for (const query of [`&after=${after}`, '&asOf=2026-01-05', `&knownAt=${new Date().toISOString()}`]) {
        recorder.take();
        expect((await get(t.app, `${url}${query}`)).status).toBe(200);
        out.push((await costOf(t.database.db, recorder.take())).tuples);
      }
      return out;
    };
    const [b, q] = [await costs(busy.consortiumId), await costs(quiet.consortiumId)];
    // Without the index in the order of enrolment, each page read all 300 enrolments and sorted them.
    for (const [i, tuples] of b.entries()) expect(tuples, JSON.stringify({ busy: b, quiet: q })).toBeLessThanOrEqual((q[i] ?? 0) + 20);
  }, 120_000);
});
