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

describe('ids of events and notifications', () => {
  it('are time-ordered (UUID version 7): events in the order they were recorded, notifications stamped with when', async () => {
    const before = Date.now();
    const { programId, consortiumId, events } = programWithConsortium('uuid7');
    const batch = await record(t.app, ...events);
    const started = await record(t.app, { type: 'pilot.started', occurredAt: '2026-04', data: { programId, consortiumId, milestone: 'defense-pilot' } });
    const seminar = await record(t.app, seminarHeld(programId, 'Defense AI', '2026-05-02'));
    const after = Date.now();

    // In position order, each id sorts after the one before, within a batch as across appends.
    const recorded = [...batch, ...started, ...seminar];
    expect(recorded.map((e) => e.id).filter((id) => !isVersion7(id))).toEqual([]);
    expect(recorded.map((e) => e.id)).toEqual(recorded.map((e) => e.id).sort());
    for (const e of recorded) {
      expect(millisecondsOf(e.id)).toBeGreaterThanOrEqual(before);
      expect(millisecondsOf(e.id)).toBeLessThanOrEqual(after);
    }

    // Notifications (each event's, and the status change the pilot made) carry the moment they
    // were made, never going back along the feed: within one millisecond their order is open.
    await waitForFeedHorizon(t.database.db);
    const response = await call(t.app, 'GET', `/v1/feed?programId=${programId}&follow=false`);
    const messages = parseSse(String(response.body)).messages.map((m) => MessageShape.parse(JSON.parse(m.data)));
    expect(messages.map((m) => m.type)).toContain('milestone.status_changed');
    // Every event naming the program (its consortium's registration does not), and the change.
    expect(messages).toHaveLength(recorded.filter((e) => e.data.programId === programId).length + 1);
    expect(messages.map((m) => m.id).filter((id) => !isVersion7(id))).toEqual([]);
    const stamps = messages.map((m) => millisecondsOf(m.id));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    // The database's clock, not the test's: a container's may differ from the host's by a little.
    expect(Math.min(...stamps)).toBeGreaterThanOrEqual(before - 5_000);
    expect(Math.max(...stamps)).toBeLessThanOrEqual(after + 5_000);
  });
});
