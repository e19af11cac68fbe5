import { describe, expect, it } from 'vitest';
import { consortiumEnrolled, consortiumRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { post, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
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
    const replayed = await matrix(t.app, programId, `?knownAt=${new Date(Date.now() + 60_000).toISOString()}`);
    const finalEvaluation = projected.milestones.find((m) => m.milestone === 'final-evaluation');
    expect(finalEvaluation?.cells[0]?.evidence).toHaveLength(1 + WRITERS * ROUNDS);
    expect(projected.milestones).toEqual(replayed.milestones);
  });
});
