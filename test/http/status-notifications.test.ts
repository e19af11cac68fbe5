import { describe, expect, it } from 'vitest';
import { consortiumEnrolled, consortiumRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, record } from '../support/http.js';
import { MessageShape, StatusChangeShape, transitionOf } from '../support/notification-message.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

async function statusChanges(programId: string) {
  await waitForFeedHorizon(t.database.db);
  const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&topics=milestone.status_changed&follow=false`);
  return parseSse(String(response.body)).messages.map((m) => transitionOf(StatusChangeShape.parse(MessageShape.parse(JSON.parse(m.data)).data)));
}

describe('milestone.status_changed, for batches of several events', () => {
  it('names as cause the event that set the status, not a later one of the batch about the same milestone', async () => {
    const { programId, consortiumId, events } = programWithConsortium('batch-order');
    await record(t.app, ...events);
    const on = { programId, consortiumId, milestone: 'defense-pilot' };

    // Recorded in one batch, listed out of world-time order: the June end decides the status.
    const [completed] = await record(
      t.app,
      { type: 'pilot.completed', occurredAt: '2026-06', data: on },
      { type: 'pilot.started', occurredAt: '2026-05', data: on },
    );

    expect(await statusChanges(programId)).toEqual([
      { programId, milestone: 'defense-pilot', consortiumId, from: 'planned', to: 'achieved', causedBy: completed?.id },
    ]);
  });

  it("names the elimination as the cause of a consortium's cancelled cells, even beside another consortium's fact", async () => {
    const { programId, consortiumId, events } = programWithConsortium('batch-elim');
    const other = uniqueId('c');
    await record(t.app, ...events, consortiumRegistered(other), consortiumEnrolled(other, programId));

    const [, eliminated] = await record(
      t.app,
      { type: 'pilot.started', occurredAt: '2026-06', data: { programId, consortiumId: other, milestone: 'defense-pilot' } },
      { type: 'consortium.eliminated', occurredAt: '2026-06-15', data: { programId, consortiumId, reason: 'failed evaluation' } },
    );

    const changes = await statusChanges(programId);
    expect(changes).toContainEqual({ programId, milestone: 'defense-pilot', consortiumId, from: 'planned', to: 'cancelled', causedBy: eliminated?.id });
    expect(changes).toHaveLength(2);
  });
});
