import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { eventsOf, get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const Matrix = z.object({
  eliminations: z.array(z.object({ consortiumId: z.string(), eliminatedAt: z.object({ value: z.string() }) })),
  milestones: z.array(z.object({ cells: z.array(z.object({ consortiumId: z.string().optional(), status: z.string(), evidenceCount: z.int() })) })),
});

const eliminationsAt = async (programId: string, query = '') => {
  const response = await get(t.app, `/v1/programs/${programId}/milestones${query}`);
  expect(response.status).toBe(200);
  return Matrix.parse(response.body).eliminations.map((e) => [e.consortiumId, e.eliminatedAt.value]);
};

describe("a program's matrix names the consortiums eliminated from it", () => {
  it('only once the consortium is enrolled at the cut-off, though its elimination is dated earlier, as its status says', async () => {
    const programId = uniqueId('elim-early');
    const late = uniqueId('late');
    await record(
      t.app,
      programRegistered(programId),
      consortiumRegistered(late),
      { type: 'consortium.enrolled', occurredAt: '2026-06-01', data: { consortiumId: late, programId } },
      milestonePlanned(programId, 'pilot', 'consortium'),
      { type: 'consortium.eliminated', occurredAt: '2026-03-01', data: { consortiumId: late, programId, reason: 'dated before the enrolment' } },
    );

    expect(await eliminationsAt(programId, '?asOf=2026-04-01')).toEqual([]);
    const status = await get(t.app, `/v1/consortiums/${late}/status?asOf=2026-04-01`);
    expect(z.object({ programs: z.array(z.unknown()) }).parse(status.body).programs).toEqual([]);
    expect(await eliminationsAt(programId, '?asOf=2026-06-15')).toEqual([[late, '2026-03-01']]);
  });

  it('at every cut-off, with the earliest elimination in world time, however many facts followed it, and not once it is retracted', async () => {
    const programId = uniqueId('elim');
    const [kept, cut] = [uniqueId('kept'), uniqueId('cut')];
    await record(t.app, programRegistered(programId), ...[kept, cut].flatMap((c) => [consortiumRegistered(c), consortiumEnrolled(c, programId)]), milestonePlanned(programId, 'pilot', 'consortium'));
    const beforeEliminations = new Date().toISOString();
    const [elimination] = await record(t.app, { type: 'consortium.eliminated', occurredAt: '2026-06-20', data: { consortiumId: cut, programId, reason: 'cut' } });
    // A second elimination dated earlier corrects the first, as a consortium's status says.
    await record(t.app, { type: 'consortium.eliminated', occurredAt: '2026-06-10', data: { consortiumId: cut, programId, reason: 'cut, earlier' } });
    const afterEliminations = new Date().toISOString();
    // More facts on its cell than a cell shows evidence (20): the elimination leaves the cell's latest evidence.
    await record(
      t.app,
      ...Array.from({ length: 25 }, (_, i) => ({ type: 'milestone.started', occurredAt: `2026-07-${String(i + 1).padStart(2, '0')}`, data: { programId, milestone: 'pilot', consortiumId: cut } })),
    );
    const current = Matrix.parse((await get(t.app, `/v1/programs/${programId}/milestones`)).body);
    expect(current.milestones[0]?.cells.find((c) => c.consortiumId === cut)?.evidenceCount).toBeGreaterThan(20);

    expect(await eliminationsAt(programId)).toEqual([[cut, '2026-06-10']]);
    expect(await eliminationsAt(programId, '?asOf=2026-06-15')).toEqual([[cut, '2026-06-10']]);
    expect(await eliminationsAt(programId, '?asOf=2026-06-05')).toEqual([]);
    expect(await eliminationsAt(programId, `?knownAt=${encodeURIComponent(afterEliminations)}`)).toEqual([[cut, '2026-06-10']]);
    expect(await eliminationsAt(programId, `?knownAt=${encodeURIComponent(beforeEliminations)}`)).toEqual([]);
    // The milestone's own view is unchanged, and answers as before.
    expect((await get(t.app, `/v1/programs/${programId}/milestones/pilot`)).status).toBe(200);

    // Retracting the earlier one leaves the first; retracting both, none.
    const earlier = eventsOf(await get(t.app, `/v1/events?programId=${programId}&type=consortium.eliminated`)).find((e) => e.id !== elimination?.id);
    await record(t.app, { type: 'event.retracted', data: { eventId: earlier?.id, reason: 'misdated' } });
    expect(await eliminationsAt(programId)).toEqual([[cut, '2026-06-20']]);
    await record(t.app, { type: 'event.retracted', data: { eventId: elimination?.id, reason: 'reversed' } });
    expect(await eliminationsAt(programId)).toEqual([]);
    expect(await eliminationsAt(programId, `?knownAt=${encodeURIComponent(afterEliminations)}`)).toEqual([[cut, '2026-06-10']]);
  });
});
