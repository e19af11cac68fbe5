import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { countEvents } from '../support/event-count.js';
import { consortiumRegistered, milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { call, post, problemOf, record, type JsonResponse } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

let programId: string;
let outsider: string;
const BODY_LIMIT = 256 * 1024;
const t = useTestApp({ limits: { appendBodyLimit: BODY_LIMIT } });

beforeAll(async () => {
  const scenario = programWithConsortium();
  ({ programId } = scenario);
  outsider = uniqueId('outsider');
  await record(t.app, ...scenario.events, consortiumRegistered(outsider));
});

/** Sends a bad request and checks it is refused as problem+json with nothing stored. */
async function refused(send: () => Promise<JsonResponse>) {
  const before = await countEvents(t.database.db);
  const response = await send();
  expect(response.contentType).toContain('application/problem+json');
  expect(await countEvents(t.database.db)).toBe(before);
  return { status: response.status, problem: problemOf(response) };
}

const fact = (data: Record<string, unknown>, type = 'milestone.achieved') => ({ type, occurredAt: '2026-06', data });

describe('POST /v1/events refuses bad input with a 4xx problem and stores nothing', () => {
  it('malformed JSON: 400 malformed-request', async () => {
    const { status, problem } = await refused(() => call(t.app, 'POST', '/v1/events', '{"type": "mou.signed",', { 'content-type': 'application/json' }));

    expect(status).toBe(400);
    expect(problem.type).toBe('/problems/malformed-request');
  });

  it('a content type other than JSON: 415', async () => {
    const { status, problem } = await refused(() =>
      call(t.app, 'POST', '/v1/events', 'type=mou.signed', { 'content-type': 'application/x-www-form-urlencoded' }),
    );

    expect(status).toBe(415);
    expect(problem.type).toBe('/problems/unsupported-media-type');
    // What it takes and what it was sent (probe of every route: "Unsupported Media Type").
    expect(problem.detail).toBe(`the request body must be JSON, sent with Content-Type: application/json; this one is "application/x-www-form-urlencoded"`);
  });

  it('an unknown event type: 400 naming /type and the known types', async () => {
    const { status, problem } = await refused(() => post(t.app, { type: 'mou.torn-up', occurredAt: '2026', data: {} }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/type', detail: expect.stringContaining('unknown event type "mou.torn-up"') }]);
    expect(problem.errors?.[0]?.detail).toContain('mou.signed');
  });

  it('data failing its schema: 400 naming each failing field', async () => {
    const { status, problem } = await refused(() =>
      post(t.app, { type: 'mou.signed', occurredAt: '2026-05', data: { parties: [], programId, signedBy: 'x' } }),
    );

    expect(status).toBe(400);
    expect(problem.type).toBe('/problems/validation-failed');
    expect(problem.errors?.map((e) => e.pointer).sort()).toEqual(['/data', '/data/parties', '/data/title']);
  });

  it('a fact that names neither program nor consortium: 400', async () => {
    const { status, problem } = await refused(() => post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { title: 'x' } }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.detail).toContain('at least one of programId and consortiumId');
  });

  it.each(['2026-Q5', '2026-13', '2026-02-30', 'June 2026', '2026-06-10T10:00:00', '9999', '0000-01-01T00:00:00Z', '2026-02-30T10:00Z'])('a bad fuzzy date %j: 400 naming /occurredAt', async (date) => {
    const { status, problem } = await refused(() => post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), occurredAt: date }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/occurredAt', detail: expect.stringContaining(`not a valid date: '${date}'`) }]);
  });

  it('a date with characters a reader cannot see: quoted with each written as its escape (probe of hostile input: ESC [31m coloured the terminal)', async () => {
    const { status, problem } = await refused(() => post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), occurredAt: '\u0000\u001b[31m2026' }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.detail).toContain("not a valid date: '\\u0000\\u001b[31m2026'");
  });

  it('a single event with two fields of the wrong type: each named, not the batch form (probe of hostile input: "/events: required … unrecognized keys")', async () => {
    const { status, problem } = await refused(() => post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), correlationId: 5, causationId: 6 }));

    expect(status).toBe(400);
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/correlationId', '/causationId']);
    expect(problem.detail).not.toContain('/events');
  });

  it('a single event with a misspelt key: told as one event, the key named, not as the batch form (review of 2026-12-07)', async () => {
    const { occurredAt, ...rest } = fact({ programId, milestone: 'final-evaluation' });
    const { status, problem } = await refused(() => post(t.app, { ...rest, occuredAt: occurredAt }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([
      { pointer: '/occurredAt', detail: 'required: a string' },
      { pointer: '/', detail: 'unrecognized key: "occuredAt"' },
    ]);
  });

  it('a type with marks that reorder or hide text: quoted with each written as its escape (review of 2026-12-07)', async () => {
    const { status, problem } = await refused(() => post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), type: '\u202eevil\u009b31m\u200b' }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.detail).toContain('unknown event type "\\u202eevil\\u009b31m\\u200b"');
  });

  it('a batch with one more key: still told as a batch', async () => {
    const { status, problem } = await refused(() => post(t.app, { events: [fact({ programId, milestone: 'final-evaluation' })], atomic: true }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/', detail: 'unrecognized key: "atomic"' }]);
  });

  it('a text field given an array: told its type alone, not also that the array is too short (probe of hostile input)', async () => {
    const { status, problem } = await refused(() => post(t.app, fact({ programId, milestone: 'final-evaluation', note: [] })));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/data/note', detail: 'Invalid input: expected string, received array' }]);
  });

  it('a text field of white space alone: told it is blank, not that it has fewer than one character (probe of hostile input)', async () => {
    const { status, problem } = await refused(() => post(t.app, fact({ programId, milestone: 'final-evaluation', note: ' \u00a0 ' })));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/data/note', detail: 'must not be empty or white space alone' }]);
  });

  it('a bad due date inside data: 400 naming /data/due', async () => {
    const { status, problem } = await refused(() => post(t.app, { ...milestonePlanned(programId, 'm-x', 'program'), data: { ...milestonePlanned(programId, 'm-x', 'program').data, due: '2026-Q9' } }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.pointer).toBe('/data/due');
  });

  it('a batch of more than 1000 events: 400 naming /events', async () => {
    const events = Array.from({ length: 1001 }, () => fact({ programId, milestone: 'final-evaluation' }));

    const { status, problem } = await refused(() => post(t.app, { events }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/events', detail: expect.stringContaining('1000') }]);
  });

  it('an empty batch: 400', async () => {
    const { status } = await refused(() => post(t.app, { events: [] }));

    expect(status).toBe(400);
  });

  it('a bad event inside a batch: 400 pointing into that event, and none of the batch is stored', async () => {
    const { status, problem } = await refused(() =>
      post(t.app, { events: [fact({ programId, milestone: 'final-evaluation' }), fact({ programId, milestone: 'Not A Slug' })] }),
    );

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.pointer).toBe('/events/1/data/milestone');
  });

  it('a body over the size limit: 413', async () => {
    const big = { ...fact({ programId, milestone: 'final-evaluation', note: 'x'.repeat(1000) }) };
    const events = Array.from({ length: Math.ceil(BODY_LIMIT / 1000) + 10 }, () => big);

    const { status, problem } = await refused(() => post(t.app, { events: events.slice(0, 1000) }));

    expect(status).toBe(413);
    expect(problem.type).toBe('/problems/payload-too-large');
    expect(problem.detail).toBe(`the request body is larger than the ${BODY_LIMIT} bytes this route takes; send less in one request`);
  });

  it('an Idempotency-Key over 200 characters: 400 saying the headers are not valid (probe of every route: "the headers is")', async () => {
    const { status, problem } = await refused(() => post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'x' } }, { 'idempotency-key': 'k'.repeat(201) }));

    expect(status).toBe(400);
    expect(problem.detail).toMatch(/^the headers are not valid: idempotency-key: an Idempotency-Key is at most 200 characters long/);
  });

  it('a key of 200,000 characters the event does not take: 400 quoting its first 100 (review of the day\'s refusals)', async () => {
    const response = await post(t.app, { type: 'seminar.held', occurredAt: '2026', data: { programId: 'any-program', title: 'x' }, ['k'.repeat(200_000)]: 1 });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body).length).toBeLessThan(5000);
    expect(problemOf(response).errors).toEqual([{ pointer: '/', detail: expect.stringMatching(/^unrecognized key: "k{100}…" \(200000 characters\)$/) }]);
  });

  it('a batch of 1,000 events of unknown types: 400 listing the first 50 faults and how many more, not all of them (review of the day\'s refusals: 1.6 MB)', async () => {
    const { status, problem } = await refused(() => post(t.app, { events: Array.from({ length: 1000 }, () => ({ type: 'x', occurredAt: '2026', data: {} })) }));

    expect(status).toBe(400);
    expect(problem.errors).toHaveLength(51);
    expect(problem.errors?.[0]).toEqual({ pointer: '/events/0/type', detail: expect.stringContaining('unknown event type "x"') });
    expect(problem.errors?.[50]).toEqual({ detail: 'and 950 more' });
    expect(problem.detail).toMatch(/; and 990 more$/);
  });

  it('a type nested 5,000 arrays deep: 400 naming /type, not a 500 (probe of every route: the stack of JSON.stringify overflowed)', async () => {
    const nested = `{"type":${'['.repeat(5000)}${']'.repeat(5000)},"occurredAt":"2026","data":{}}`;
    const { status, problem } = await refused(() => call(t.app, 'POST', '/v1/events', nested, { 'content-type': 'application/json' }));

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/type', detail: expect.stringContaining('unknown event type an array;') }]);
  });

  it.each([
    ['type', { type: 'x'.repeat(200_000), occurredAt: '2026', data: {} }, 'unknown event type "xxx'],
    ['occurredAt', { type: 'seminar.held', occurredAt: '2'.repeat(200_000), data: { programId: 'any-program', title: 'x' } }, "not a valid date: '222"],
  ])('a %s of 200,000 characters: 400 quoting its first 100, not all of it twice (probe of every route)', async (field, event, start) => {
    const response = await post(t.app, event);

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body).length).toBeLessThan(5000);
    expect(problemOf(response).errors).toEqual([{ pointer: `/${field}`, detail: expect.stringContaining(start) }]);
    expect(problemOf(response).errors?.[0]?.detail).toMatch(/…["'] \(200000 characters\)/);
  });

  it.each([
    ['a NUL character', 'Seminar\u0000'],
    ['an unpaired surrogate', 'Seminar \ud800'],
  ])('a string with %s, which PostgreSQL cannot store: 400 naming it', async (_what, title) => {
    const { status, problem } = await refused(() => post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title } }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]).toMatchObject({ pointer: '/data/title', detail: expect.stringContaining('NUL') });
  });

  it.each([
    ['a NUL character', 'https://example.com/a\u0000b', 'control characters'],
    ['an unpaired surrogate', 'https://example.com/\udc00', 'NUL'],
  ])("a source URL with %s, which the URL parser lets through: 400 naming it", async (_what, url, said) => {
    const { status, problem } = await refused(() =>
      post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Seminar' }, sources: [{ url }] }),
    );

    expect(status).toBe(400);
    expect(problem.errors?.[0]).toMatchObject({ pointer: '/sources/0/url', detail: expect.stringContaining(said) });
  });

  it.each([
    ['no // after its scheme', 'https:evil.example/x'],
    ['backslashes for slashes', 'http:\\\\evil.example'],
    ['one slash', 'https:/path'],
    ['no scheme', 'not a url'],
  ])('a source URL with %s, which the URL parser would read as another: 400 saying it is no absolute http(s) URL, nothing stored (review of the day)', async (_what, url) => {
    const { status, problem } = await refused(() =>
      post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Seminar' }, sources: [{ url }] }),
    );

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/sources/0/url', detail: 'url must be an absolute http(s) URL' }]);
  });

  it.each([
    ['spaces around it', ' https://example.com/report '],
    ['a raw space inside, reading as two URLs in a CSV', 'https://news.example/a https://evil.example/b'],
    ['a line break and a tab inside, which the URL parser drops', 'https://example.com/p\na\tt\rh'],
    ['a no-break space', 'https://example.com/a\u00a0b'],
  ])('a source URL with %s: 400 naming it and saying to percent-encode, nothing stored (until 2026-12-06 stored altered or as written; probe of unusual text)', async (_what, url) => {
    const { status, problem } = await refused(() =>
      post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Seminar' }, sources: [{ url }] }),
    );

    expect(status).toBe(400);
    expect(problem.errors).toEqual([
      { pointer: '/sources/0/url', detail: 'url must not contain white space or control characters: percent-encode them (a space is %20)' },
    ]);
  });

  it('a source URL over 2,048 characters: 400 saying that, not that it is no absolute URL', async () => {
    const url = `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length + 1)}`;
    const fits = url.slice(0, -1);

    const { status, problem } = await refused(() =>
      post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Seminar' }, sources: [{ url }] }),
    );
    const accepted = await post(t.app, { type: 'seminar.held', occurredAt: '2026-06', data: { programId, title: 'Seminar' }, sources: [{ url: fits }] });

    expect(status).toBe(400);
    expect(problem.errors).toEqual([{ pointer: '/sources/0/url', detail: 'url must be at most 2048 characters long' }]);
    expect(accepted.status).toBe(201);
  });

  it('an expectedVersion beyond what a stream can reach: 400', async () => {
    const { status, problem } = await refused(() =>
      post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), expectedVersion: 3_000_000_000 }),
    );

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.pointer).toBe('/expectedVersion');
  });

  it('expectedVersion below 0: 400 naming it', async () => {
    const { status, problem } = await refused(() => post(t.app, { ...fact({ programId, milestone: 'final-evaluation' }), expectedVersion: -1 }));

    expect(status).toBe(400);
    expect(problem.errors?.[0]?.pointer).toBe('/expectedVersion');
  });
});

describe('POST /v1/events refuses references to what does not exist, and stores nothing', () => {
  const unknown = (name: string, data: () => Record<string, unknown>, type: string, detail: RegExp) =>
    it(`${name}: 422 unknown-reference`, async () => {
      const { status, problem } = await refused(() => post(t.app, fact(data(), type)));

      expect(status).toBe(422);
      expect(problem.type).toBe('/problems/unknown-reference');
      expect(problem.detail).toMatch(detail);
      expect(problem.pointer).toMatch(/^\/events\/0\/data\/(programId|consortiumId|milestone)$/);
    });

  unknown('an unknown program', () => ({ programId: 'no-such-program', title: 'x' }), 'seminar.held', /unknown program 'no-such-program'/);
  unknown('an unknown consortium', () => ({ consortiumId: 'no-such-consortium', model: 'X' }), 'model.announced', /unknown consortium 'no-such-consortium'/);
  unknown('an unknown milestone', () => ({ programId, milestone: 'no-such-milestone' }), 'milestone.achieved', /unknown milestone 'no-such-milestone' of program/);
  unknown(
    'a consortium-scope milestone for a consortium not enrolled',
    () => ({ programId, milestone: 'defense-pilot', consortiumId: outsider }),
    'pilot.started',
    /consortium-scoped and the consortium is not enrolled/,
  );
  unknown(
    'a consortium-scope milestone without a consortium',
    () => ({ programId, milestone: 'defense-pilot' }),
    'milestone.started',
    /consortium-scoped: name the consortium/,
  );
  unknown('the elimination of a consortium not enrolled', () => ({ programId, consortiumId: outsider }), 'consortium.eliminated', /is not enrolled in program/);

  it('a retraction of an unknown event: 422', async () => {
    const { status, problem } = await refused(() => post(t.app, fact({ eventId: randomUUID(), reason: 'wrong' }, 'event.retracted')));

    expect(status).toBe(422);
    expect(problem.detail).toMatch(/no event .* to retract/);
  });

  it('a retraction of an already retracted event: 409 already-retracted', async () => {
    const [seminar] = await record(t.app, fact({ programId, title: 'to retract' }, 'seminar.held'));
    await record(t.app, fact({ eventId: seminar?.id, reason: 'wrong' }, 'event.retracted'));

    const { status, problem } = await refused(() => post(t.app, fact({ eventId: seminar?.id, reason: 'again' }, 'event.retracted')));

    expect(status).toBe(409);
    expect(problem.type).toBe('/problems/already-retracted');
  });

  it('a retraction of an event that defines what exists: 422 not-retractable', async () => {
    const [registered] = await record(t.app, programRegistered(uniqueId('p')));

    const { status, problem } = await refused(() => post(t.app, fact({ eventId: registered?.id, reason: 'no' }, 'event.retracted')));

    expect(status).toBe(422);
    expect(problem.type).toBe('/problems/not-retractable');
  });

  it('a batch that retracts the same event twice: refused, and nothing stored', async () => {
    const [seminar] = await record(t.app, fact({ programId, title: 'retract me twice' }, 'seminar.held'));
    const retract = fact({ eventId: seminar?.id, reason: 'wrong' }, 'event.retracted');

    const { status, problem } = await refused(() => post(t.app, { events: [retract, retract] }));

    expect(status).toBe(409);
    expect(problem.type).toBe('/problems/already-retracted');
  });

  it('registering a program twice: 409 already-defined', async () => {
    const { status, problem } = await refused(() => post(t.app, programRegistered(programId)));

    expect(status).toBe(409);
    expect(problem).toMatchObject({ type: '/problems/already-defined', reference: { kind: 'program', key: programId } });
  });

  it('a batch whose last event is refused stores none of the earlier ones', async () => {
    const fresh = uniqueId('p');

    const { status, problem } = await refused(() =>
      post(t.app, { events: [programRegistered(fresh), milestonePlanned(fresh, 'm1', 'program'), fact({ programId: fresh, milestone: 'm2' })] }),
    );

    expect(status).toBe(422);
    expect(problem.pointer).toMatch(/^\/events\/2\/data\//);
  });

  it('a batch may define something and refer to it in a later event', async () => {
    const fresh = uniqueId('p');

    const recorded = await record(t.app, programRegistered(fresh), milestonePlanned(fresh, 'm1', 'program'), fact({ programId: fresh, milestone: 'm1' }));

    expect(recorded).toHaveLength(3);
  });

  it('a batch may not refer to something before the event that defines it', async () => {
    const fresh = uniqueId('p');

    const { status } = await refused(() => post(t.app, { events: [milestonePlanned(fresh, 'm1', 'program'), programRegistered(fresh)] }));

    expect(status).toBe(422);
  });
});
