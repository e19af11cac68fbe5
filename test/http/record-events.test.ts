import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/test-app.js';
import { consortiumEnrolled, consortiumRegistered, programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { eventsOf, get, post, record, streamPageOf } from '../support/http.js';

const t = useTestApp();

describe('POST /v1/events', () => {
  it('stores one event and answers 201 with its full envelope', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);

    const response = await post(t.app, {
      ...seminarHeld(programId, 'Military AI data centres', '2026-06-10'),
      correlationId: 'corr-1',
      causationId: 'cause-1',
    });

    expect(response.status).toBe(201);
    const [event] = eventsOf(response);
    expect(event).toMatchObject({
      type: 'seminar.held',
      schemaVersion: 1,
      stream: `program:${programId}`,
      streamVersion: 4,
      occurredAt: { value: '2026-06-10', precision: 'day', start: '2026-06-10T00:00:00.000Z', end: '2026-06-11T00:00:00.000Z' },
      data: { programId, title: 'Military AI data centres' },
      sources: [{ url: 'https://news.example/seminar', publisher: 'Example News' }],
      metadata: { actor: 'ADMIN_API_KEY', correlationId: 'corr-1', causationId: 'cause-1' },
    });
    expect(event?.metadata.requestId).toBe(response.headers['x-request-id']);
    expect(response.headers.location).toBe(`/v1/events/${event?.id}`);
    expect(Date.now() - Date.parse(event?.recordedAt ?? '')).toBeLessThan(60_000);

    const fetched = await get(t.app, `/v1/events/${event?.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(event);
  });

  it('derives the stream from the data: the consortium when named, else the program', async () => {
    const { programId, consortiumId, events } = programWithConsortium();
    await record(t.app, ...events);

    const [onConsortium, onProgram] = await record(
      t.app,
      { type: 'pilot.started', occurredAt: '2026-Q2', data: { consortiumId, programId, milestone: 'defense-pilot' } },
      { type: 'evaluation.held', occurredAt: '2026-08', data: { programId, milestone: 'final-evaluation' } },
    );

    expect(onConsortium).toMatchObject({ stream: `consortium:${consortiumId}`, streamVersion: 3 });
    expect(onProgram).toMatchObject({ stream: `program:${programId}`, streamVersion: 4 });
  });

  it('stores a batch all together, in order, with increasing positions', async () => {
    const { events } = programWithConsortium();

    const recorded = await record(t.app, ...events);

    expect(recorded.map((e) => e.type)).toEqual(events.map((e) => e.type));
    const positions = recorded.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('files a retraction in the stream of the event it retracts', async () => {
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events);
    const [seminar] = await record(t.app, seminarHeld(programId));

    const [retraction] = await record(t.app, {
      type: 'event.retracted',
      occurredAt: '2026-06-12',
      data: { eventId: seminar?.id, reason: 'the seminar was postponed' },
    });

    expect(retraction).toMatchObject({ stream: `program:${programId}`, streamVersion: (seminar?.streamVersion ?? 0) + 1 });
  });

  it('answers 404 problem+json for an unknown event id', async () => {
    const response = await get(t.app, '/v1/events/00000000-0000-4000-8000-000000000000');

    expect(response.status).toBe(404);
    expect(response.contentType).toContain('application/problem+json');
    expect(response.body).toMatchObject({ type: '/problems/not-found', status: 404 });
  });
});

describe('GET /v1/streams/{stream}/events', () => {
  it('reads a stream in version order, page by page, with its current version', async () => {
    const consortiumId = uniqueId('c');
    const { programId, events } = programWithConsortium();
    await record(t.app, ...events, consortiumRegistered(consortiumId), consortiumEnrolled(consortiumId, programId));
    const stream = `consortium:${consortiumId}`;

    const first = streamPageOf(await get(t.app, `/v1/streams/${stream}/events?limit=1`));
    const second = streamPageOf(await get(t.app, `/v1/streams/${stream}/events?fromVersion=${first.nextVersion}&limit=1`));

    expect(first).toMatchObject({ stream, version: 2, nextVersion: 2 });
    expect(first.events.map((e) => e.type)).toEqual(['consortium.registered']);
    expect(second.events.map((e) => [e.type, e.streamVersion])).toEqual([['consortium.enrolled', 2]]);
    expect(second.nextVersion).toBeUndefined();
  });

  it('answers version 0 and no events for a stream that does not exist yet', async () => {
    const page = streamPageOf(await get(t.app, `/v1/streams/program:${uniqueId('none')}/events`));

    expect(page).toMatchObject({ version: 0, events: [] });
  });

  it('refuses a fromVersion beyond what a stream can reach with 400', async () => {
    const response = await get(t.app, '/v1/streams/program:x/events?fromVersion=3000000000');

    expect(response.status).toBe(400);
  });

  it('refuses a stream name that is not program:<id> or consortium:<id>', async () => {
    const response = await get(t.app, '/v1/streams/milestone:x/events');

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: '/problems/validation-failed', errors: [{ parameter: 'stream' }] });
  });
});

describe('GET /v1/event-types', () => {
  it('publishes every type of the catalogue with the JSON Schema of its data', async () => {
    const response = await get(t.app, '/v1/event-types');

    expect(response.status).toBe(200);
    const { eventTypes: types } = z
      .object({ eventTypes: z.array(z.looseObject({ type: z.string(), dataSchema: z.looseObject({ required: z.array(z.string()).optional() }) })) })
      .parse(response.body);
    expect(types.map((t) => t.type)).toHaveLength(17);
    expect(types.find((t) => t.type === 'mou.signed')).toMatchObject({
      kind: 'fact',
      effect: 'achieved',
      dataSchema: { type: 'object', required: ['parties', 'title'], additionalProperties: false },
    });
    expect(types.find((t) => t.type === 'milestone.planned')?.dataSchema.required).toEqual(
      expect.arrayContaining(['programId', 'milestone', 'title', 'scope']),
    );
  });
});
