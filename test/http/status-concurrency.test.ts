import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { recordEvents } from '../../src/services/record-events.js';
import { rebuildReadModel } from '../../src/store/read-model-rebuild.js';
import { consortiumEnrolled, consortiumRegistered, milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { post, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { comparable, referenceMatrix } from '../support/reference-views.js';
import { matrix } from '../support/views.js';

const t = useTestApp({ poolSize: 24 });

const DATES = ['2026-04', '2026-05-02', '2026-05-20', '2026-06', '2026-Q2', '2026-07-01', '2026-03', '2026-08-15'];
const TYPES = ['milestone.started', 'milestone.achieved', 'milestone.missed', 'evaluation.held', 'milestone.cancelled'];

describe('milestone cells under concurrent writers', () => {
  it('end as the fold of the log when appends on different streams change the same cell at once', async () => {
    const { programId, events } = programWithConsortium();
    const consortiums = Array.from({ length: 8 }, () => uniqueId('c'));
    await record(t.app, ...events, ...consortiums.flatMap((c) => [consortiumRegistered(c), consortiumEnrolled(c, programId)]));
    const WRITERS = 16;
    const ROUNDS = 8;

    for (let round = 0; round < ROUNDS; round++) {
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) => {
          // Each names another consortium, so each goes to another stream: nothing but the cell serialises them.
          const consortiumId = consortiums[i % consortiums.length];
          return post(t.app, {
            type: TYPES[(i + round) % TYPES.length],
            occurredAt: DATES[(i * 3 + round) % DATES.length],
            data: { programId, milestone: 'final-evaluation', ...(i < consortiums.length && { consortiumId }) },
          });
        }),
      );
      expect(responses.map((r) => r.status)).toEqual(Array<number>(WRITERS).fill(201));
    }

    const projected = await matrix(t.app, programId);
    const finalEvaluation = projected.milestones.find((m) => m.milestone === 'final-evaluation');
    expect(finalEvaluation?.cells[0]?.evidenceCount).toBe(WRITERS * ROUNDS);
    expect(comparable(projected)).toEqual(await referenceMatrix(t.database.db, programId, {}, new Date()));
  });

  it('has every cell when a milestone is planned and rescheduled while a consortium is being enrolled', async () => {
    const programId = uniqueId('p');
    const consortiumId = uniqueId('c');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm0', 'consortium', '2026-Q2'), consortiumRegistered(consortiumId));

    // The enrolment (consortium stream) stays uncommitted while the plan (program stream) is sent.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let recorded = () => {};
    const enrolled = new Promise<void>((resolve) => (recorded = resolve));
    const enrolling = t.database.concurrentTransactions
      ? t.database.db.transaction().execute(async (trx) => {
          await recordEvents(trx, { events: [ProposedEvent.parse(consortiumEnrolled(consortiumId, programId))], principal: { keyId: '00000000-0000-4000-8000-000000000001', name: 'slow', role: 'writer' }, requestId: 'held', idempotencyKey: undefined });
          recorded();
          await released;
        })
      : record(t.app, consortiumEnrolled(consortiumId, programId)).then(recorded);
    // On a server the enrolment is written, not yet committed, when the plan is sent, however slow the
    // machine (PGlite runs one transaction at a time: it commits first). A failed enrolment throws here.
    await Promise.race([enrolled, enrolling]);
    const planning = record(
      t.app,
      milestonePlanned(programId, 'm1', 'consortium', '2026-Q3'),
      { type: 'milestone.rescheduled', occurredAt: '2026-06', data: { programId, milestone: 'm0', due: '2027' } },
    );
    await sleep(200);
    release();
    await Promise.all([enrolling, planning]);

    const projected = await matrix(t.app, programId);
    expect(projected.milestones.map((m) => [m.milestone, m.due?.value, m.cells.map((c) => [c.consortiumId, c.due?.value])])).toEqual([
      ['m0', '2027', [[consortiumId, '2027']]],
      ['m1', '2026-Q3', [[consortiumId, '2026-Q3']]],
    ]);
    const replayed = await matrix(t.app, programId, `?knownAt=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(projected.milestones).toEqual(replayed.milestones);
  });

  it('lets every append through while a rebuild runs, and ends as the fold of the log', async () => {
    const { programId, consortiumId, events } = programWithConsortium();
    await record(t.app, ...events);

    const appends = Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        post(t.app, {
          type: TYPES[i % TYPES.length],
          occurredAt: DATES[i % DATES.length],
          data: { programId, milestone: i % 2 === 0 ? 'final-evaluation' : 'defense-pilot', consortiumId },
        }),
      ),
    );
    // Small chunks, folded on two connections on a server, as `npm run projections:rebuild` does.
    const rebuild = () => rebuildReadModel(t.database.db, () => {}, 50, t.database.concurrentTransactions ? 2 : 1);
    const rebuilds = Promise.all([rebuild(), sleep(20).then(rebuild)]);
    const [responses] = await Promise.all([appends, rebuilds]);

    expect(responses.map((r) => r.status)).toEqual(Array<number>(24).fill(201));
    const projected = await matrix(t.app, programId);
    expect(comparable(projected)).toEqual(await referenceMatrix(t.database.db, programId, {}, new Date()));
  });
});
