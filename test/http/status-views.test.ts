import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MilestoneOutput } from '../../src/http/schemas/status-views.js';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { bearer, get, inject, problemOf, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { cell, matrix } from '../support/views.js';

const t = useTestApp();

/** A fresh program with a program-scope milestone (final-evaluation) and a consortium-scope one (defense-pilot). */
async function scenario() {
  const s = programWithConsortium();
  await record(t.app, ...s.events);
  return s;
}

const fact = (type: string, occurredAt: string, data: Record<string, unknown>) => ({ type, occurredAt, data });

describe('the effect of each fact on the cell it names (SPEC §3)', () => {
  const cases: [string, string, (p: string, c: string) => Record<string, unknown>][] = [
    ['mou.signed', 'achieved', (programId, consortiumId) => ({ parties: ['A', 'B'], title: 'MOU', programId, consortiumId, milestone: 'defense-pilot' })],
    ['seminar.held', 'achieved', (programId, consortiumId) => ({ title: 'Seminar', programId, consortiumId, milestone: 'defense-pilot' })],
    ['pilot.started', 'in_progress', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['pilot.completed', 'achieved', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['model.announced', 'achieved', (programId, consortiumId) => ({ model: 'A.X K1', programId, consortiumId, milestone: 'defense-pilot' })],
    ['evaluation.held', 'achieved', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['milestone.started', 'in_progress', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['milestone.achieved', 'achieved', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['milestone.missed', 'missed', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
    ['milestone.cancelled', 'cancelled', (programId, consortiumId) => ({ programId, consortiumId, milestone: 'defense-pilot' })],
  ];

  it.each(cases)('%s makes the cell %s, since the fact, with the fact as evidence', async (type, status, data) => {
    const { programId, consortiumId } = await scenario();
    const before = await cell(t.app, programId, 'defense-pilot', consortiumId);

    const [event] = await record(t.app, fact(type, '2026-05-14', data(programId, consortiumId)));

    expect(before.status).toBe('planned');
    const after = await cell(t.app, programId, 'defense-pilot', consortiumId);
    expect(after).toMatchObject({ status, since: { value: '2026-05-14', precision: 'day' } });
    expect(after.evidence[0]).toBe(event?.id);
  });

  it('a fact on a program-scope milestone moves the program cell, whichever consortium it names', async () => {
    const { programId, consortiumId } = await scenario();

    await record(t.app, fact('evaluation.held', '2026-08-20', { programId, consortiumId, milestone: 'final-evaluation' }));

    expect(await cell(t.app, programId, 'final-evaluation')).toMatchObject({ status: 'achieved', since: { value: '2026-08-20' } });
  });

  it('a start never undoes an end, and a later end replaces an earlier one', async () => {
    const { programId, consortiumId } = await scenario();
    const on = { programId, consortiumId, milestone: 'defense-pilot' };

    await record(t.app, fact('milestone.missed', '2026-07', on), fact('milestone.started', '2026-08', on));
    const missed = await cell(t.app, programId, 'defense-pilot', consortiumId);
    await record(t.app, fact('milestone.achieved', '2026-09', on));

    expect(missed).toMatchObject({ status: 'missed', since: { value: '2026-07' } });
    expect(await cell(t.app, programId, 'defense-pilot', consortiumId)).toMatchObject({ status: 'achieved', since: { value: '2026-09' } });
  });

  it('a reschedule moves the due date of every cell of the milestone and is evidence', async () => {
    const { programId, consortiumId } = await scenario();
    // A second consortium, so that the milestone has more than one cell.
    const other = uniqueId('other');
    await record(t.app, consortiumRegistered(other), consortiumEnrolled(other, programId));

    // Read once before: the milestone as first planned, which the service then keeps.
    const planned = (await cell(t.app, programId, 'defense-pilot', consortiumId)).due;

    const [moved] = await record(t.app, fact('milestone.rescheduled', '2026-06', { programId, milestone: 'defense-pilot', due: '2026-Q4' }));

    for (const id of [consortiumId, other]) {
      expect(await cell(t.app, programId, 'defense-pilot', id), id).toMatchObject({
        status: 'planned',
        due: { value: '2026-Q4', start: '2026-10-01T00:00:00.000Z' },
        evidence: expect.arrayContaining([moved?.id]),
      });
    }
    expect(planned).not.toMatchObject({ value: '2026-Q4' });
    // Retracted, the reschedule no longer moves it: the due date as first planned again.
    await record(t.app, { type: 'event.retracted', data: { eventId: moved?.id, reason: 'wrong date' } });
    expect((await cell(t.app, programId, 'defense-pilot', consortiumId)).due).toEqual(planned);
  });
});

describe('world-time order', () => {
  it('late backfill: pilot.completed (June) recorded before pilot.started (May) leaves the cell achieved, since June', async () => {
    const { programId, consortiumId } = await scenario();
    const on = { programId, consortiumId, milestone: 'defense-pilot' };

    const [completed] = await record(t.app, fact('pilot.completed', '2026-06', on));
    const [started] = await record(t.app, fact('pilot.started', '2026-05', on));

    const now = await cell(t.app, programId, 'defense-pilot', consortiumId);
    expect(now).toMatchObject({ status: 'achieved', since: { value: '2026-06', precision: 'month' } });
    expect(now.evidence.slice(0, 2)).toEqual([completed?.id, started?.id]);
    expect(await cell(t.app, programId, 'defense-pilot', consortiumId, '?asOf=2026-05-15')).toMatchObject({ status: 'in_progress' });
  });
});

describe('retraction', () => {
  it("removes the retracted event's effect from every view and from evidence, at once", async () => {
    const { programId, consortiumId } = await scenario();
    const on = { programId, consortiumId, milestone: 'defense-pilot' };
    await record(t.app, fact('pilot.started', '2026-04', on));
    const [wrong] = await record(t.app, fact('pilot.completed', '2026-06', on));
    expect((await cell(t.app, programId, 'defense-pilot', consortiumId)).status).toBe('achieved');

    const [retraction] = await record(t.app, fact('event.retracted', '2026-06-20', { eventId: wrong?.id, reason: 'misreported' }));

    const fromMilestone = await cell(t.app, programId, 'defense-pilot', consortiumId);
    expect(fromMilestone).toMatchObject({ status: 'in_progress', since: { value: '2026-04' } });
    expect(fromMilestone.evidence).not.toContain(wrong?.id);
    const fromMatrix = (await matrix(t.app, programId)).milestones.find((m) => m.milestone === 'defense-pilot');
    expect(fromMatrix?.cells[0]).toEqual(fromMilestone);
    const consortium = await get(t.app, `/v1/consortiums/${consortiumId}/status`);
    expect(JSON.stringify(consortium.body)).not.toContain(String(wrong?.id));
    expect(JSON.stringify(consortium.body)).toContain('"status":"in_progress"');
    const timeline = z
      .object({ events: z.array(z.looseObject({ id: z.string(), retracted: z.boolean(), retractedBy: z.string().optional() })) })
      .parse((await get(t.app, `/v1/timeline?programId=${programId}`)).body);
    expect(timeline.events.find((e) => e.id === wrong?.id)).toMatchObject({ retracted: true, retractedBy: retraction?.id });
    expect(timeline.events.some((e) => e.id === retraction?.id)).toBe(false);
  });

  it('known before the retraction, the view still shows the retracted event (knownAt)', async () => {
    const { programId, consortiumId } = await scenario();
    const on = { programId, consortiumId, milestone: 'defense-pilot' };
    const [wrong] = await record(t.app, fact('pilot.completed', '2026-06', on));
    const before = new Date(Date.parse(wrong?.recordedAt ?? '') + 1).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));

    await record(t.app, fact('event.retracted', '2026-06-20', { eventId: wrong?.id, reason: 'misreported' }));

    expect((await cell(t.app, programId, 'defense-pilot', consortiumId, `?knownAt=${before}`)).status).toBe('achieved');
    expect((await cell(t.app, programId, 'defense-pilot', consortiumId)).status).toBe('planned');
  });
});

describe('consortium.eliminated', () => {
  it("cancels that consortium's open milestones in the program, and only those", async () => {
    const { programId, consortiumId, events } = await scenario();
    const other = uniqueId('c');
    await record(t.app, consortiumRegistered(other), consortiumEnrolled(other, programId));
    const elsewhere = programWithConsortium();
    await record(t.app, ...elsewhere.events.slice(0, 3), consortiumEnrolled(consortiumId, elsewhere.programId));
    await record(t.app, fact('milestone.achieved', '2026-05', { programId, consortiumId, milestone: 'defense-pilot' }));
    await record(t.app, fact('pilot.started', '2026-05', { programId, consortiumId: other, milestone: 'defense-pilot' }));
    void events;

    await record(t.app, fact('consortium.eliminated', '2026-07', { consortiumId: other, programId, reason: 'failed evaluation' }));
    await record(t.app, fact('consortium.eliminated', '2026-07', { consortiumId, programId: elsewhere.programId }));

    expect((await cell(t.app, programId, 'defense-pilot', other)).status).toBe('cancelled');
    expect((await cell(t.app, programId, 'defense-pilot', consortiumId)).status).toBe('achieved');
    expect((await cell(t.app, programId, 'final-evaluation')).status).toBe('planned');
    expect(await cell(t.app, elsewhere.programId, 'defense-pilot', consortiumId)).toMatchObject({ status: 'cancelled', since: { value: '2026-07' } });
    expect((await cell(t.app, elsewhere.programId, 'final-evaluation')).status).toBe('planned');
    // The consortium's CSV says so on its rows of that program, not only through a cancelled cell.
    const csv = await inject(t.app, { url: `/v1/consortiums/${consortiumId}/status`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const rows = z.array(z.record(z.string(), z.string())).parse(parse(csv.body, { columns: true }));
    const enrolments = new Set(rows.map((r) => `${r.programId} ${r.enrolledAt} ${r.eliminatedAt}`));
    expect([...enrolments].sort()).toEqual([`${elsewhere.programId} 2025-08-04 2026-07`, `${programId} 2025-08-04 `].sort());
  });

  it('dates the elimination by the earliest one in world time, not the first recorded, as its cancelled cells do', async () => {
    const { programId, consortiumId } = await scenario();

    await record(t.app, fact('consortium.eliminated', '2026-09', { consortiumId, programId }));
    await record(t.app, fact('consortium.eliminated', '2026-07-15', { consortiumId, programId, reason: 'the date was wrong' }));

    const status = await get(t.app, `/v1/consortiums/${consortiumId}/status`);
    const enrolment = z
      .object({ programs: z.array(z.object({ program: z.object({ programId: z.string() }), eliminatedAt: z.object({ value: z.string() }) })) })
      .parse(status.body);
    expect(enrolment.programs.find((p) => p.program.programId === programId)?.eliminatedAt.value).toBe('2026-07-15');
    expect(await cell(t.app, programId, 'defense-pilot', consortiumId)).toMatchObject({ status: 'cancelled', since: { value: '2026-07-15' } });
  });
});

describe('overdue', () => {
  it('follows the end of the due interval: a milestone due 2026-08 is overdue on 1 September', async () => {
    const { programId } = await scenario();

    const onLastDay = await cell(t.app, programId, 'final-evaluation', undefined, '?asOf=2026-08-31T23:59:59Z');
    const onFirstOfSeptember = await cell(t.app, programId, 'final-evaluation', undefined, '?asOf=2026-09-01');

    expect(onLastDay).toMatchObject({ due: { value: '2026-08' }, overdue: false });
    expect(onFirstOfSeptember.overdue).toBe(true);
  });

  it('is false for an achieved or cancelled milestone, true for a missed one', async () => {
    const { programId, consortiumId } = await scenario();
    await record(t.app, fact('milestone.achieved', '2026-08-10', { programId, milestone: 'final-evaluation' }));
    await record(t.app, fact('milestone.missed', '2026-07', { programId, consortiumId, milestone: 'defense-pilot' }));

    expect((await cell(t.app, programId, 'final-evaluation', undefined, '?asOf=2026-10-01')).overdue).toBe(false);
    expect((await cell(t.app, programId, 'defense-pilot', consortiumId, '?asOf=2026-10-01')).overdue).toBe(true);
  });
});

describe('definitions out of world-time order', () => {
  it('a reschedule moves the due date of a consortium-scope milestone nobody is enrolled in yet', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'solo', 'consortium', '2026-Q2'));

    await record(t.app, fact('milestone.rescheduled', '2026-05', { programId, milestone: 'solo', due: '2027' }));

    for (const query of ['', '?asOf=2026-12-31']) {
      const program = await get(t.app, `/v1/programs/${programId}${query}`);
      expect(program.body, query).toMatchObject({ milestones: [{ milestone: 'solo', due: { value: '2027' } }] });
    }
  });

  it('a consortium enrolled (in world time) before its program was registered still has a status as of then', async () => {
    const programId = uniqueId('p');
    const consortiumId = uniqueId('c');
    await record(t.app, { ...programRegistered(programId), occurredAt: '2026' }, consortiumRegistered(consortiumId), {
      ...consortiumEnrolled(consortiumId, programId),
      occurredAt: '2025-08',
    });

    const early = await get(t.app, `/v1/consortiums/${consortiumId}/status?asOf=2025-09`);
    const later = await get(t.app, `/v1/consortiums/${consortiumId}/status?asOf=2026-02`);

    expect(early.status).toBe(200);
    expect(early.body).toMatchObject({ consortium: { consortiumId }, programs: [] });
    expect(later.body).toMatchObject({ programs: [{ program: { programId } }] });
  });
});

describe('views', () => {
  it('lists programs and consortiums, and shows one program with its planned milestones', async () => {
    const { programId, consortiumId } = await scenario();

    const programs = await get(t.app, '/v1/programs');
    const consortiums = await get(t.app, '/v1/consortiums');
    const program = await get(t.app, `/v1/programs/${programId}`);

    expect(JSON.stringify(programs.body)).toContain(`"programId":"${programId}"`);
    expect(JSON.stringify(consortiums.body)).toContain(`"consortiumId":"${consortiumId}"`);
    expect(program.body).toMatchObject({
      programId,
      sponsor: 'MSIT',
      milestones: [
        { milestone: 'final-evaluation', scope: 'program', due: { value: '2026-08' } },
        { milestone: 'defense-pilot', scope: 'consortium', due: { value: '2026-Q2' } },
      ],
    });
  });

  it('counts cells per status in the matrix', async () => {
    const { programId, consortiumId } = await scenario();
    await record(t.app, fact('milestone.started', '2026-05', { programId, consortiumId, milestone: 'defense-pilot' }));

    const view = await matrix(t.app, programId);

    expect(view.counts).toEqual({ planned: 1, in_progress: 1, achieved: 0, missed: 0, cancelled: 0 });
    expect(view.milestones.map((m) => [m.milestone, m.counts.planned, m.counts.in_progress])).toEqual([
      ['final-evaluation', 1, 0],
      ['defense-pilot', 0, 1],
    ]);
  });

  it("shows a milestone's cells in the order of their consortium ids, whatever order they were enrolled in, at every cut", async () => {
    const { programId, consortiumId, events } = programWithConsortium();
    // Enrolled in an order other than their ids', the first one after the others by id too.
    const later = [`${consortiumId}-b`, `${consortiumId}-0`, `${consortiumId}-a`];
    await record(t.app, ...events, ...later.flatMap((id) => [consortiumRegistered(id), consortiumEnrolled(id, programId)]));
    const inOrder = [consortiumId, `${consortiumId}-0`, `${consortiumId}-a`, `${consortiumId}-b`];

    const now = encodeURIComponent(new Date().toISOString());
    for (const query of ['', '?asOf=2026-01', `?knownAt=${now}`, `?asOf=2026-01&knownAt=${now}`]) {
      const view = await matrix(t.app, programId, query);
      const pilot = view.milestones.find((m) => m.milestone === 'defense-pilot');
      const milestone = await get(t.app, `/v1/programs/${programId}/milestones/defense-pilot${query}`);
      expect(pilot?.cells.map((c) => c.consortiumId), query).toEqual(inOrder);
      expect(MilestoneOutput.parse(milestone.body).cells.map((c) => c.consortiumId), query).toEqual(inOrder);
    }
  });

  it('shows a consortium with each program it is in and its cells there', async () => {
    const { programId, consortiumId } = await scenario();

    const response = await get(t.app, `/v1/consortiums/${consortiumId}/status`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      consortium: { consortiumId },
      programs: [
        {
          program: { programId },
          enrolledAt: { value: '2025-08-04' },
          milestones: [
            { milestone: 'final-evaluation', scope: 'program', status: 'planned' },
            { milestone: 'defense-pilot', scope: 'consortium', consortiumId, status: 'planned' },
          ],
        },
      ],
    });
  });

  it('answers the matrix and the timeline as CSV for Accept: text/csv', async () => {
    const { programId, consortiumId } = await scenario();
    await record(t.app, fact('seminar.held', '2026-06-10', { title: 'Data centres, "military"', programId, consortiumId, milestone: 'defense-pilot' }));

    const csv = await inject(t.app, { url: `/v1/programs/${programId}/milestones`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const timeline = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });

    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'programId,milestone,title,scope,consortiumId,status,certain,since,sinceStart,sinceEnd,due,dueStart,dueEnd,overdue,evidenceCount,evidence,sources,cutoffAsOf,cutoffKnownAt,judgedAt',
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain(
      `${programId},defense-pilot,Milestone defense-pilot,consortium,${consortiumId},achieved,true,2026-06-10,2026-06-10T00:00:00.000Z,2026-06-11T00:00:00.000Z,2026-Q2,2026-04-01T00:00:00.000Z,2026-07-01T00:00:00.000Z,`,
    );
    expect(timeline.body.split('\r\n')[0]).toBe('occurredAt,start,end,precision,type,stream,position,recordedAt,programId,consortiumId,milestone,title,retracted,retractedBy,id,sources,cutoffAsOf,cutoffKnownAt,rangeFrom,rangeTo');
    expect(timeline.body).toContain('"Data centres, ""military"""');
  });

  it('answers 404 for an unknown program, milestone or consortium, and for a program not yet registered asOf', async () => {
    const { programId } = await scenario();

    for (const url of [`/v1/programs/${uniqueId('none')}/milestones`, `/v1/programs/${programId}/milestones/nope`, `/v1/consortiums/${uniqueId('none')}/status`, `/v1/programs/${programId}?asOf=2024`]) {
      const response = await get(t.app, url);
      expect(response.status, url).toBe(404);
      expect(problemOf(response).type).toBe('/problems/not-found');
    }
  });

  it('refuses a bad asOf with a 400 naming it', async () => {
    const response = await get(t.app, '/v1/programs?asOf=yesterday');

    expect(response.status).toBe(400);
    expect(problemOf(response).errors).toEqual([{ parameter: 'asOf', detail: expect.stringContaining('not a valid date') }]);
  });
});
