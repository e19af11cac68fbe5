// SPEC §9: an append's cost does not grow with the registries it checks references against. A
// look-up by key reads the same rows however many programs, consortiums, enrolments, milestones and
// participant references there are; a hash join or hashed sub-plan over a whole registry, which a
// generic plan of append_events() may choose, reads thousands more (it did for the facts-only path
// until 2026-12-01: 14,034 reference rows per append at 1M events).
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, uniqueId } from '../support/events.js';
import { record } from '../support/http.js';
import { rowsReadToAppend } from '../support/append-reads.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ limits: { apiKeyCacheMs: 0 } });
const minute = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();

describe('append cost and the registries (SPEC §9)', () => {
  it('reads as few rows to append a fact, alone or with a definition, with 1,500 more programs and consortiums and 750 more enrolments, milestones and participants as with none', async () => {
    const programId = uniqueId('rv');
    const [c0, c1] = [uniqueId('c'), uniqueId('c')];
    await record(
      t.app,
      programRegistered(programId),
      consortiumRegistered(c0),
      consortiumRegistered(c1),
      consortiumEnrolled(c0, programId),
      consortiumEnrolled(c1, programId),
      milestonePlanned(programId, 'm-cons', 'consortium', '2030'),
      // A milestone naming its consortiums: the fact's check then reads the participant reference too.
      { ...milestonePlanned(programId, 'm-part', 'consortium', '2030'), data: { ...milestonePlanned(programId, 'm-part', 'consortium', '2030').data, consortiums: [c0] } },
    );
    let n = 0;
    const fact = (milestone: string) => ({ type: 'evaluation.held', occurredAt: minute(++n), data: { programId, milestone, consortiumId: c0 } });
    // The general path: the batch defines something (a new consortium), so the facts-only path is not taken.
    const general = (milestone: string) => [consortiumRegistered(uniqueId('g')), fact(milestone)];

    const measure = async () => {
      await sql`analyze`.execute(t.database.db);
      // Twice each: the first call of a session may plan; the second is the one measured.
      await rowsReadToAppend(t.database.db, [fact('m-part')]);
      const factsOnly = await rowsReadToAppend(t.database.db, [fact('m-part')]);
      await rowsReadToAppend(t.database.db, [fact('m-cons')]);
      const factsOnlyCons = await rowsReadToAppend(t.database.db, [fact('m-cons')]);
      await rowsReadToAppend(t.database.db, general('m-part'));
      const generalPath = await rowsReadToAppend(t.database.db, general('m-part'));
      return { factsOnly, factsOnlyCons, generalPath };
    };
    const before = await measure();

    // 3 batches of 250 programs, 250 consortiums, 250 enrolments and 250 milestones naming their consortium:
    // 750 enrolment, 750 milestone and 750 participant references (and 1,500 program/consortium ones).
    for (let batch = 0; batch < 3; batch += 1) {
      const pairs = Array.from({ length: 250 }, () => [uniqueId('rp'), uniqueId('rc')] as const);
      await record(
        t.app,
        ...pairs.map(([p]) => programRegistered(p)),
        ...pairs.map(([, c]) => consortiumRegistered(c)),
        ...pairs.map(([p, c]) => consortiumEnrolled(c, p)),
        ...pairs.map(([p, c]) => ({ ...milestonePlanned(p, 'm', 'consortium', '2030'), data: { ...milestonePlanned(p, 'm', 'consortium', '2030').data, consortiums: [c] } })),
      );
    }
    const after = await measure();

    const report = JSON.stringify({ before, after });
    expect(before.factsOnly, report).toBeGreaterThan(0);
    expect(after.factsOnly, report).toBeLessThanOrEqual(before.factsOnly + 20);
    expect(after.factsOnlyCons, report).toBeLessThanOrEqual(before.factsOnlyCons + 20);
    expect(after.generalPath, report).toBeLessThanOrEqual(before.generalPath + 20);
  }, 300_000);
});
