import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExampleScenario } from '../../db/seed-example-scenario.js';
import { countEvents } from '../support/event-count.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { feedPageOf, get, streamPageOf, TEST_ADMIN_KEY } from '../support/http.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let baseUrl: string;
beforeAll(async () => {
  t = await startTestApp();
  // The seed is a real HTTP client (fetch), so the app must listen rather than be inject()ed.
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`expected a TCP address, got ${String(address)}`);
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => t?.close());

describe('npm run seed', () => {
  it('records the example scenario once, and a second run stores nothing and returns the same events', async () => {
    const before = await countEvents(t.database.db);

    const first = await seedExampleScenario(baseUrl, TEST_ADMIN_KEY);
    const afterFirst = await countEvents(t.database.db);
    const second = await seedExampleScenario(baseUrl, TEST_ADMIN_KEY);
    const afterSecond = await countEvents(t.database.db);

    expect(afterFirst - before).toBe(first.eventIds.length);
    expect(first.eventIds.length).toBeGreaterThan(30);
    expect(new Set(first.eventIds).size).toBe(first.eventIds.length);
    expect(afterSecond).toBe(afterFirst);
    expect(second).toEqual(first);
  });

  it('leaves facts a reader can find: the SKT defense MOU and the Naver Cloud seminar in Daejeon', async () => {
    await seedExampleScenario(baseUrl, TEST_ADMIN_KEY);
    await waitForFeedHorizon(t.database.db);

    const skt = streamPageOf(await get(t.app, '/v1/streams/consortium:skt/events'));
    const seminars = feedPageOf(await get(t.app, '/v1/events?type=seminar.held&consortiumId=naver-cloud'));

    expect(skt.events).toContainEqual(
      expect.objectContaining({
        type: 'mou.signed',
        data: expect.objectContaining({ parties: ['SK Telecom', 'Ministry of National Defense'], milestone: 'defense-model-mou' }),
      }),
    );
    expect(seminars.events).toEqual([
      expect.objectContaining({
        stream: 'consortium:naver-cloud',
        occurredAt: expect.objectContaining({ value: '2026-06-10', precision: 'day' }),
        data: expect.objectContaining({ location: 'Daejeon', programId: 'defense-ax', milestone: 'military-ai-datacenter' }),
      }),
    ]);
  });
});
