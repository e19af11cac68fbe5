import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { get, post, problemOf, record, streamPageOf } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('expectedVersion', () => {
  it('lets exactly one of N concurrent appends with the same expectedVersion win; the rest get 409 with the current version', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);
    const stream = `program:${programId}`;
    const { version } = streamPageOf(await get(t.app, `/v1/streams/${stream}/events`));
    const N = 12;

    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => post(t.app, { ...seminarHeld(programId, `writer ${i}`), expectedVersion: version })),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(N - 1).fill(409)]);
    for (const conflict of responses.filter((r) => r.status === 409)) {
      expect(problemOf(conflict)).toMatchObject({
        type: '/problems/version-conflict',
        stream,
        expectedVersion: version,
        currentVersion: version + 1,
      });
    }
    const page = streamPageOf(await get(t.app, `/v1/streams/${stream}/events?limit=1000`));
    expect(page.version).toBe(version + 1);
    expect(page.events.map((e) => e.streamVersion)).toEqual(Array.from({ length: version + 1 }, (_, i) => i + 1));
  });

  it('with 0 means the stream must not exist yet', async () => {
    const { programId, events } = programWithConsortium();
    const [first, ...rest] = events;

    const created = await post(t.app, { ...first, expectedVersion: 0 });
    await record(t.app, ...rest);
    const again = await post(t.app, { ...seminarHeld(programId), expectedVersion: 0 });

    expect(created.status).toBe(201);
    expect(again.status).toBe(409);
    expect(problemOf(again)).toMatchObject({ expectedVersion: 0, currentVersion: 3 });
  });

  it('in a batch applies to the version just before that event, counting earlier events of the batch, and a conflict names that version', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);

    const ok = await post(t.app, { events: [{ ...seminarHeld(programId, 'a'), expectedVersion: 3 }, { ...seminarHeld(programId, 'b'), expectedVersion: 4 }] });
    const stale = await post(t.app, { events: [seminarHeld(programId, 'c'), { ...seminarHeld(programId, 'd'), expectedVersion: 5 }] });

    expect(ok.status).toBe(201);
    expect(stale.status).toBe(409);
    // 'c' would have taken version 6: the version 'd' had to expect, which the conflict names.
    expect(problemOf(stale)).toMatchObject({
      pointer: '/events/1',
      expectedVersion: 5,
      currentVersion: 6,
      detail: `stream program:${programId} is at version 6 before this event, not the expected 5`,
    });
    const retried = await post(t.app, { events: [seminarHeld(programId, 'c'), { ...seminarHeld(programId, 'd'), expectedVersion: z.object({ currentVersion: z.int() }).parse(stale.body).currentVersion }] });
    expect(retried.status).toBe(201);
  });
});
