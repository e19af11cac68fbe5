import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { get, problemOf, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('a view of a mistyped program, consortium or milestone', () => {
  it('is a 404 naming the closest ids that exist, as a write naming them is (SPEC §3), on every view that names one', async () => {
    const programId = uniqueId('defense');
    const consortiumId = uniqueId('naver');
    await record(t.app, programRegistered(programId), consortiumRegistered(consortiumId), consortiumEnrolled(consortiumId, programId), milestonePlanned(programId, 'pilot-launch', 'consortium'));
    const typoProgram = `${programId}x`;
    const typoConsortium = `${consortiumId}x`;

    const cases = [
      [`/v1/programs/${typoProgram}`, programId],
      [`/v1/programs/${typoProgram}/milestones`, programId],
      [`/v1/programs/${programId}/milestones/pilot-lanch`, 'pilot-launch'],
      [`/v1/programs/${programId}/milestones/pilot-lanch/evidence?consortiumId=${consortiumId}`, 'pilot-launch'],
      [`/v1/programs/${typoProgram}/milestones/pilot-launch/evidence?consortiumId=${consortiumId}`, programId],
      [`/v1/consortiums/${typoConsortium}/status`, consortiumId],
      [`/v1/timeline?programId=${typoProgram}`, programId],
      [`/v1/timeline?consortiumId=${typoConsortium}`, consortiumId],
    ] as const;
    for (const [url, near] of cases) {
      const response = await get(t.app, url);
      expect(response.status, url).toBe(404);
      expect(response.contentType).toContain('application/problem+json');
      const problem = problemOf(response);
      // Nearest first: one edit away; other tests' ids may follow it.
      expect(problem, url).toMatchObject({ type: '/problems/not-found', suggestions: expect.arrayContaining([near]) });
      expect(z.object({ suggestions: z.array(z.string()) }).parse(problem).suggestions[0], url).toBe(near);
      expect(problem.detail, url).toContain(`did you mean '${near}'`);
    }
  });

  it('that exists, only not at the cut-off, is named as such, with no suggestion; one that never existed, with suggestions and no word of the cut-off', async () => {
    const programId = uniqueId('later');
    await record(t.app, programRegistered(programId, '2026-09'), { type: 'milestone.planned', occurredAt: '2026-10', data: { programId, milestone: 'pilot', title: 'Pilot', scope: 'program' } });

    const program = await get(t.app, `/v1/programs/${programId}/milestones?asOf=2026-03`);
    const milestone = await get(t.app, `/v1/programs/${programId}/milestones/pilot?asOf=2026-09-15`);
    const typo = await get(t.app, `/v1/programs/${programId}x/milestones?asOf=2026-03`);

    expect([program.status, milestone.status, typo.status]).toEqual([404, 404, 404]);
    expect(problemOf(program)).not.toHaveProperty('suggestions');
    expect(problemOf(program).detail).toContain('not registered at the cut-off');
    expect(problemOf(milestone)).not.toHaveProperty('suggestions');
    expect(problemOf(milestone).detail).toContain(`no milestone '${programId}/pilot': not planned at the cut-off`);
    expect(problemOf(typo).detail).not.toContain('cut-off');
    expect(problemOf(typo).detail).toContain(`did you mean '${programId}'`);
  });
});
