import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ProposedEvent } from '../../src/domain/proposed-event.js';
import { recordEvents } from '../../src/services/record-events.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, record } from '../support/http.js';
import { parseSse } from '../support/sse.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const Message = z.object({ type: z.string(), data: z.object({ id: z.uuid().optional() }).loose() });

/** Reads the feed of a program from `after` to what is there now; returns the event ids and the last id. */
async function readFrom(programId: string, after: string | undefined) {
  const query = `/v1/feed?programId=${programId}&topics=seminar.held,pilot.started&follow=false`;
  const response = await call(t.app, 'GET', after === undefined ? query : `${query}&after=${after}`);
  const messages = parseSse(String(response.body)).messages;
  return { ids: messages.map((m) => Message.parse(JSON.parse(m.data)).data.id ?? ''), last: messages.at(-1)?.id ?? after };
}

describe('GET /v1/feed and a slow writer', () => {
  it('does not skip a notification whose transaction commits after later ones were read', async () => {
    const { programId, consortiumId, events } = programWithConsortium('late');
    await record(t.app, ...events);
    const seen: string[] = [];
    let cursor: string | undefined;
    const expected = new Set<string>();

    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = () => {};
    const holding = new Promise<void>((resolve) => (held = resolve));
    const slowWriter = t.database.concurrentTransactions
      ? t.database.db.transaction().execute(async (trx) => {
          const [late] = await recordEvents(trx, {
            events: [ProposedEvent.parse({ type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId } })],
            principal: { keyId: '00000000-0000-4000-8000-000000000003', name: 'slow', role: 'writer' },
            requestId: 'late',
            idempotencyKey: undefined,
          });
          if (late !== undefined) expected.add(late.id);
          held();
          await released;
        })
      : (held(), Promise.resolve());
    await holding;

    for (let i = 0; i < 5; i++) {
      const [e] = await record(t.app, seminarHeld(programId, `after the slow one ${i}`));
      if (e !== undefined) expected.add(e.id);
      const page = await readFrom(programId, cursor);
      seen.push(...page.ids);
      cursor = page.last;
    }
    release();
    await slowWriter;
    await waitForFeedHorizon(t.database.db);
    const rest = await readFrom(programId, cursor);
    seen.push(...rest.ids);

    // On a server the slow writer's event is the one this test is about: it must be among those expected.
    expect(expected.size).toBe(t.database.concurrentTransactions ? 6 : 5);
    expect(seen.toSorted()).toEqual([...expected].toSorted());
    expect(new Set(seen).size).toBe(seen.length);
  });
});
