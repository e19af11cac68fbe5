import { describe, expect, it } from 'vitest';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, record } from '../support/http.js';
import { MessageShape } from '../support/notification-message.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

/** A UUID's 32 hex digits: of an event id, or of a message id (msg_ and the notification's). */
const hexOf = (id: string) => id.replace(/^msg_/, '').replaceAll('-', '');

/** RFC 9562 version 7: the version nibble is 7 and the variant bits 10. */
const isVersion7 = (id: string) => /^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/.test(hexOf(id));

/** The Unix milliseconds a version 7 id carries in its first 48 bits. */
const millisecondsOf = (id: string) => Number.parseInt(hexOf(id).slice(0, 12), 16);

/** A program with a consortium, a status change (the pilot started) and a seminar, appended one after another. */
async function recordHistory() {
  const { programId, consortiumId, events } = programWithConsortium('uuid7');
  const batch = await record(t.app, ...events);
  const started = await record(t.app, { type: 'pilot.started', occurredAt: '2026-04', data: { programId, consortiumId, milestone: 'defense-pilot' } });
  const seminar = await record(t.app, seminarHeld(programId, 'Defense AI', '2026-05-02'));
  return { programId, recorded: [...batch, ...started, ...seminar] };
}

describe('ids of events and notifications', () => {
  it('gives events time-ordered ids (UUID version 7), in the order one writer recorded them, batch or not', async () => {
    const before = Date.now();
    const { recorded } = await recordHistory();
    const after = Date.now();

    const ids = recorded.map((e) => e.id);
    expect(ids.filter((id) => !isVersion7(id))).toEqual([]);
    expect(ids).toEqual([...ids].sort());
    // The service's clock, when it took the request.
    for (const id of ids) {
      expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisecondsOf(id)).toBeLessThanOrEqual(after);
    }
  });

  it('gives notifications time-ordered ids (UUID version 7), each stamped with the moment it was made', async () => {
    const { programId, recorded } = await recordHistory();

    await waitForFeedHorizon(t.database.db);
    const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`);
    const messages = parseSse(String(response.body)).messages.map((m) => MessageShape.parse(JSON.parse(m.data)));
    // Every event naming the program (its consortium's registration does not), and the change.
    expect(messages.map((m) => m.type)).toContain('milestone.status_changed');
    expect(messages).toHaveLength(recorded.filter((e) => e.data.programId === programId).length + 1);
    expect(messages.map((m) => m.id).filter((id) => !isVersion7(id))).toEqual([]);
    // The database's clock, read for the message's timestamp (the event's recordedAt, the change's
    // statement) before the id was made, within the same append.
    for (const m of messages) {
      expect(millisecondsOf(m.id)).toBeGreaterThanOrEqual(Date.parse(m.timestamp));
      expect(millisecondsOf(m.id)).toBeLessThan(Date.parse(m.timestamp) + 1_000);
    }
  });
});
