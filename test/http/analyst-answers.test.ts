import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumEnrolled, consortiumRegistered, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { call, get, post, problemOf, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { matrix } from '../support/views.js';

/* Issue 11's acceptance: participants, references that explain, evidence with sources, CSV. */

const t = useTestApp();

async function countEvents(programId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from event where program_id = ${programId}`.execute(t.database.db);
  return rows[0]?.n ?? 0;
}

/** A program with two consortiums enrolled and an MOU milestone that concerns the first alone. */
async function defenseProgram() {
  const programId = uniqueId('defense');
  const [skt, naver] = [uniqueId('skt'), uniqueId('naver')];
  await record(
    t.app,
    programRegistered(programId),
    ...[skt, naver].flatMap((c) => [consortiumRegistered(c), consortiumEnrolled(c, programId)]),
    {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: { programId, milestone: 'defense-model-mou', title: 'MOU with the defense ministry', due: '2026-05', scope: 'consortium', consortiums: [skt] },
    },
  );
  return { programId, skt, naver };
}

/** `count` MOUs of the consortium on the defense MOU milestone, an hour apart from 1 May 2026. */
const hourlyMous = (programId: string, consortiumId: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    type: 'mou.signed',
    occurredAt: new Date(Date.UTC(2026, 4, 1, i)).toISOString(),
    data: { programId, consortiumId, milestone: 'defense-model-mou', parties: ['SK Telecom', 'MND'], title: `MOU ${i}` },
  }));

describe('participants (milestone.planned v2)', () => {
  it('gives a milestone planned for one consortium a cell for it and none for another enrolled consortium', async () => {
    const { programId, skt, naver } = await defenseProgram();

    const view = await matrix(t.app, programId);

    expect(view.milestones[0]?.cells.map((c) => c.consortiumId)).toEqual([skt]);
    const refused = await post(t.app, { type: 'mou.signed', occurredAt: '2026-05', data: { programId, consortiumId: naver, milestone: 'defense-model-mou', parties: ['Naver Cloud', 'MND'], title: 'MOU' } });
    expect(refused.status).toBe(422);
    expect(problemOf(refused).detail).toContain('concerns only');
  });

  it('reads a version 1 milestone.planned already stored back as version 2, and publishes both schemas', async () => {
    const programId = uniqueId('legacy');
    await record(t.app, programRegistered(programId));
    const id = randomUUID();
    await sql`
      insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision, occurred_start,
                         occurred_end, data, metadata, program_id, milestone)
      values (${id}, 'milestone.planned', 1, ${`program:${programId}-v1`}, 1, '2026', 'year', '2026-01-01', '2027-01-01',
              ${JSON.stringify({ programId, milestone: 'old', title: 'Planned under version 1', scope: 'consortium' })}::jsonb,
              '{"actor": "migration", "requestId": "legacy"}'::jsonb, ${programId}, 'old')`.execute(t.database.db);

    const stored = await get(t.app, `/v1/events/${id}`);
    const types = await get(t.app, '/v1/event-types');

    expect(stored.body).toMatchObject({ schemaVersion: 2, data: { scope: 'consortium', title: 'Planned under version 1' } });
    const planned = z
      .object({ eventTypes: z.array(z.object({ type: z.string(), schemaVersion: z.int(), dataSchema: z.record(z.string(), z.unknown()), pastVersions: z.array(z.object({ schemaVersion: z.int(), dataSchema: z.record(z.string(), z.unknown()) })) })) })
      .parse(types.body)
      .eventTypes.find((e) => e.type === 'milestone.planned');
    expect(planned?.schemaVersion).toBe(2);
    expect(JSON.stringify(planned?.dataSchema)).toContain('consortiums');
    expect(planned?.pastVersions.map((v) => v.schemaVersion)).toEqual([1]);
    expect(JSON.stringify(planned?.pastVersions[0]?.dataSchema)).not.toContain('consortiums');
  });
});

describe('references that are checked and explained', () => {
  it('refuses pilot facts for a consortium not enrolled in the program with 422, and stores nothing', async () => {
    const { programId, events } = programWithConsortium('pilot');
    const outsider = uniqueId('outsider');
    await record(t.app, ...events, consortiumRegistered(outsider));
    const before = await countEvents(programId);

    const started = await post(t.app, { type: 'pilot.started', occurredAt: '2026-05', data: { programId, consortiumId: outsider } });
    const completed = await post(t.app, { type: 'pilot.completed', occurredAt: '2026-06', data: { programId, consortiumId: outsider } });

    for (const response of [started, completed]) {
      expect(response.status).toBe(422);
      expect(problemOf(response).detail).toContain(`consortium '${outsider}' is not enrolled in program '${programId}'`);
    }
    expect(await countEvents(programId)).toBe(before);
  });

  it("answers a misspelt milestone with 422 naming the closest one: 'final-evalution' → 'final-evaluation'", async () => {
    const { programId, events } = programWithConsortium('typo');
    await record(t.app, ...events);

    const response = await post(t.app, { type: 'milestone.achieved', occurredAt: '2026-08', data: { programId, milestone: 'final-evalution' } });

    expect(response.status).toBe(422);
    expect(problemOf(response).detail).toContain("did you mean 'final-evaluation'?");
    expect(response.body).toMatchObject({ pointer: '/events/0/data/milestone', suggestions: ['final-evaluation'] });
  });

  it('says "required" for a missing field', async () => {
    const { programId, events } = programWithConsortium('required');
    await record(t.app, ...events);

    const response = await post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId } });

    expect(response.status).toBe(400);
    expect(problemOf(response).errors).toEqual([expect.objectContaining({ pointer: '/data/title', detail: 'required: a string' })]);
  });

  it('says "required: an array" with its article for a missing list (probe of the README\'s claims: "a array")', async () => {
    const response = await post(t.app, {});

    expect(response.status).toBe(400);
    expect(problemOf(response).errors).toContainEqual(expect.objectContaining({ pointer: '/events', detail: 'required: an array' }));
  });

  it('records a retraction without occurredAt (201), dated when it was recorded', async () => {
    const { programId, events } = programWithConsortium('retract');
    await record(t.app, ...events);
    const [wrong] = await record(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Misreported' } });

    const response = await post(t.app, { type: 'event.retracted', data: { eventId: wrong?.id, reason: 'misreported' } });

    expect(response.status).toBe(201);
    const [retraction] = z.object({ events: z.array(z.object({ occurredAt: z.object({ precision: z.string(), start: z.string() }), recordedAt: z.string() })) }).parse(response.body).events;
    expect(retraction?.occurredAt.precision).toBe('instant');
    expect(Date.parse(retraction?.occurredAt.start ?? '')).toBe(Date.parse(retraction?.recordedAt ?? ''));
  });
});

describe('evidence with sources, and CSV on every view', () => {
  it('expands evidence into entries with type, date, title and sources; definitions are not evidence', async () => {
    const { programId, skt } = await defenseProgram();
    const source = { url: 'https://news.example/skt-mnd-mou', publisher: 'Example News', title: 'SKT signs defense AI MOU' };
    const [mou] = await record(t.app, {
      type: 'mou.signed',
      occurredAt: '2026-05-14',
      data: { programId, consortiumId: skt, milestone: 'defense-model-mou', parties: ['SK Telecom', 'MND'], title: 'Defense AI model MOU' },
      sources: [source],
    });

    for (const url of [`/v1/programs/${programId}/milestones/defense-model-mou?expand=evidence`, `/v1/programs/${programId}/milestones?expand=evidence`, `/v1/consortiums/${skt}/status?expand=evidence`]) {
      const response = await get(t.app, url);
      expect(response.status, url).toBe(200);
      expect(JSON.stringify(response.body), url).toContain(JSON.stringify([{ id: mou?.id, type: 'mou.signed', occurredAt: { value: '2026-05-14', precision: 'day', start: '2026-05-14T00:00:00.000Z', end: '2026-05-15T00:00:00.000Z' }, title: 'Defense AI model MOU', sources: [source] }]));
    }
    const plain = await get(t.app, `/v1/programs/${programId}/milestones/defense-model-mou`);
    expect(plain.body).toMatchObject({ cells: [{ evidence: [mou?.id], evidenceCount: 1 }] });
  });

  it('answers the consortium view as CSV, with start and end beside each date, the sources, and no cell that can run as a formula', async () => {
    const { programId, skt } = await defenseProgram();
    await record(t.app, {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: { programId, milestone: 'formula', title: '=HYPERLINK("https://evil.example","click")', scope: 'consortium', consortiums: [skt] },
    });
    await record(t.app, {
      type: 'pilot.started',
      occurredAt: '2026-Q2',
      data: { programId, consortiumId: skt, milestone: 'formula' },
      sources: [{ url: 'https://news.example/pilot' }],
    });

    const response = await call(t.app, 'GET', `/v1/consortiums/${skt}/status?asOf=2026-05-15`, undefined, { accept: 'text/csv' });

    expect(response.status).toBe(200);
    expect(response.contentType).toContain('text/csv');
    const rows = z.array(z.record(z.string(), z.string())).parse(parse(String(response.body), { columns: true }));
    const pilot = rows.find((r) => r.milestone === 'formula');
    expect(pilot).toMatchObject({
      status: 'in_progress',
      certain: 'false',
      since: '2026-Q2',
      sinceStart: '2026-04-01T00:00:00.000Z',
      sinceEnd: '2026-07-01T00:00:00.000Z',
      sources: 'https://news.example/pilot',
      title: `'=HYPERLINK("https://evil.example","click")`,
    });
  });
});

describe('every view as CSV, and a cell\'s evidence paged', () => {
  it('answers text/csv on every view', async () => {
    const { programId, skt } = await defenseProgram();
    const urls = [
      '/v1/programs',
      `/v1/programs/${programId}`,
      `/v1/programs/${programId}/milestones`,
      `/v1/programs/${programId}/milestones/defense-model-mou`,
      '/v1/consortiums',
      `/v1/consortiums/${skt}/status`,
      `/v1/timeline?programId=${programId}`,
      `/v1/programs/${programId}/milestones/defense-model-mou/evidence?consortiumId=${skt}`,
    ];
    // A cell with evidence, so that the evidence page has a row.
    await record(t.app, { type: 'mou.signed', occurredAt: '2026-05-02', data: { programId, consortiumId: skt, milestone: 'defense-model-mou', parties: ['SK Telecom', 'MND'], title: 'MOU' } });
    for (const url of urls) {
      const response = await call(t.app, 'GET', url, undefined, { accept: 'text/csv' });
      expect(response.status, url).toBe(200);
      expect(response.contentType, url).toContain('text/csv');
      const rows = z.array(z.record(z.string(), z.string())).parse(parse(String(response.body), { columns: true }));
      expect(rows.length, url).toBeGreaterThan(0);
    }
  });

  it("pages a cell's evidence beyond the 20 a view shows: every entry once, newest first, as many as evidenceCount", async () => {
    const { programId, skt } = await defenseProgram();
    const mous = await record(t.app, ...hourlyMous(programId, skt, 45));

    const shown = await get(t.app, `/v1/programs/${programId}/milestones/defense-model-mou`);
    const seen: string[] = [];
    let after = '';
    for (let i = 0; i < 5; i++) {
      const response = await get(t.app, `/v1/programs/${programId}/milestones/defense-model-mou/evidence?consortiumId=${skt}&limit=20${after}`);
      const page = z.object({ evidence: z.array(z.object({ id: z.string() })), nextCursor: z.string().optional() }).parse(response.body);
      expect(page.evidence.length).toBeLessThanOrEqual(20);
      seen.push(...page.evidence.map((e) => e.id));
      if (page.nextCursor === undefined) break;
      after = `&after=${encodeURIComponent(page.nextCursor)}`;
    }

    expect(shown.body).toMatchObject({ cells: [{ evidenceCount: 45 }] });
    expect(seen).toEqual(mous.map((e) => e.id).reverse());
  });

  it('pages a list in CSV by its Link header (rel="next"): every row once, none left out', async () => {
    const { programId, skt } = await defenseProgram();
    const mous = await record(t.app, ...hourlyMous(programId, skt, 7));
    const Row = z.object({ id: z.string() });
    for (const first of [`/v1/timeline?programId=${programId}&limit=3`, `/v1/programs/${programId}/milestones/defense-model-mou/evidence?consortiumId=${skt}&limit=3`]) {
      const ids: string[] = [];
      let pages = 0;
      for (let url: string | undefined = first; url !== undefined && pages < 10; pages++) {
        const response = await call(t.app, 'GET', url, undefined, { accept: 'text/csv' });
        expect(response.status, url).toBe(200);
        ids.push(...z.array(Row).parse(parse(String(response.body), { columns: true })).map((r) => r.id));
        const link = response.headers.link;
        url = typeof link === 'string' ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      }

      expect(pages, first).toBeGreaterThan(2);
      expect(new Set(ids).size, first).toBe(ids.length);
      expect(ids.filter((id) => mous.some((m) => m.id === id)).sort(), first).toEqual(mous.map((m) => m.id).sort());
    }
  });

  it('refuses a fact naming a consortium by the first words of its id, with the whole id (lg-ai for lg-ai-research)', async () => {
    const { programId } = await defenseProgram();
    const short = uniqueId('lgai');
    const registered = `${short}-research`;
    await record(t.app, consortiumRegistered(registered), consortiumEnrolled(registered, programId));

    const response = await post(t.app, { type: 'mou.signed', occurredAt: '2026-05', data: { programId, consortiumId: short, title: 'MOU', parties: ['LG AI Research'] } });

    expect(response.status).toBe(422);
    expect(problemOf(response).detail).toBe(`unknown consortium '${short}'; did you mean '${registered}'?`);
    expect(response.body).toMatchObject({ suggestions: [registered] });
  });

  it("refuses a plan naming a consortium that does not exist, with the closest one's name", async () => {
    const { programId, skt } = await defenseProgram();

    const response = await post(t.app, {
      type: 'milestone.planned',
      occurredAt: '2026-H1',
      data: { programId, milestone: 'pilot', title: 'Pilot', scope: 'consortium', consortiums: [skt, `${skt}x`] },
    });

    expect(response.status).toBe(422);
    expect(problemOf(response).detail).toContain(`did you mean '${skt}'?`);
    // The pointer names the entry refused, where the plan names it (until 2026-12-05, /data/consortiumId, a field plans do not have).
    expect(response.body).toMatchObject({ pointer: '/events/0/data/consortiums/1' });
  });
});

describe("a cell's evidence asked for without the right consortium", () => {
  it('says how to name the cell: consortiumId for a consortium-scope milestone, none for a program-scope one, the closest for a near miss', async () => {
    const p = programWithConsortium('ev');
    await record(t.app, ...p.events);
    const base = `/v1/programs/${p.programId}/milestones`;

    const missing = await get(t.app, `${base}/defense-pilot/evidence`);
    const extra = await get(t.app, `${base}/final-evaluation/evidence?consortiumId=${p.consortiumId}`);
    const misspelt = await get(t.app, `${base}/defense-pilot/evidence?consortiumId=${p.consortiumId}x`);
    const unknown = await get(t.app, `${base}/no-such-milestone/evidence`);
    const unknownProgram = await get(t.app, `/v1/programs/${p.programId}x/milestones/final-evaluation/evidence`);

    expect([missing.status, extra.status, misspelt.status, unknown.status, unknownProgram.status]).toEqual([404, 404, 404, 404, 404]);
    expect(problemOf(unknownProgram).detail).toMatch(new RegExp(`^no program '${p.programId}x'; did you mean '${p.programId}'`));
    expect(problemOf(missing).detail).toContain(`consortium-scope, with a cell per consortium: give consortiumId, such as '${p.consortiumId}'`);
    expect(problemOf(extra).detail).toContain('program-scope, with one cell: leave consortiumId out');
    expect(problemOf(misspelt).detail).toContain(`did you mean '${p.consortiumId}'?`);
    expect(problemOf(unknown).detail).toBe(`no milestone '${p.programId}/no-such-milestone'`);
  });

  it('says a planned consortium-scope milestone has no cell yet when no consortium it concerns is enrolled, not that the milestone does not exist', async () => {
    const programId = uniqueId('nc');
    await record(t.app, programRegistered(programId), {
      type: 'milestone.planned',
      occurredAt: '2026-01',
      data: { programId, milestone: 'pilot', title: 'Pilot', scope: 'consortium' },
    });

    const response = await get(t.app, `/v1/programs/${programId}/milestones/pilot/evidence`);

    expect(response.status).toBe(404);
    expect(problemOf(response).detail).toBe(`no cell '${programId}/pilot': the milestone has no cell at this cut-off: no consortium it concerns is enrolled`);
  });
});

describe('a timeline of a program or consortium that does not exist', () => {
  it('is a 404 naming it, as the other views answer, not an empty timeline that reads as "nothing happened"', async () => {
    const p = programWithConsortium('tl');
    await record(t.app, ...p.events);
    const before = z.object({ events: z.array(z.object({ recordedAt: z.string() })) }).parse((await get(t.app, `/v1/timeline?programId=${p.programId}`)).body);
    const registered = before.events.map((e) => e.recordedAt).sort()[0] ?? '';

    const typo = await get(t.app, `/v1/timeline?programId=${p.programId}x`);
    const consortiumTypo = await get(t.app, `/v1/timeline?consortiumId=${p.consortiumId}x`);
    const beforeKnown = await get(t.app, `/v1/timeline?programId=${p.programId}&knownAt=${new Date(Date.parse(registered) - 1000).toISOString()}`);
    const known = await get(t.app, `/v1/timeline?programId=${p.programId}&consortiumId=${p.consortiumId}`);

    expect([typo.status, consortiumTypo.status, beforeKnown.status, known.status]).toEqual([404, 404, 404, 200]);
    expect(problemOf(typo).detail).toMatch(new RegExp(`^no program '${p.programId}x'; did you mean '${p.programId}'`));
    expect(problemOf(consortiumTypo).detail).toMatch(new RegExp(`^no consortium '${p.consortiumId}x'; did you mean '${p.consortiumId}'`));
  });
});
