import { describe, expect, it } from 'vitest';
import { programWithConsortium } from '../support/events.js';
import { record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { cell } from '../support/views.js';

// Views without a cut-off read the projection and judge overdue by the service's clock.
let now = new Date('2026-08-31T23:59:59Z');
const t = useTestApp({ now: () => now });

describe('overdue in the current view', () => {
  it('turns true when the clock passes the end of the due interval, and false once achieved', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);

    const before = await cell(t.app, programId, 'final-evaluation');
    now = new Date('2026-09-01T00:00:00Z');
    const after = await cell(t.app, programId, 'final-evaluation');
    await record(t.app, { type: 'milestone.achieved', occurredAt: '2026-09-05', data: { programId, milestone: 'final-evaluation' } });
    const achieved = await cell(t.app, programId, 'final-evaluation');

    expect([before.overdue, after.overdue, achieved.overdue]).toEqual([false, true, false]);
  });
});
