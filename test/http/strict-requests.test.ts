import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { programRegistered, uniqueId } from '../support/events.js';
import { gzipSync } from 'node:zlib';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { bearer, call, inject, problemOf, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('integer parameters are plain decimal digits', () => {
  const refused: [string, string][] = [
    ['/v1/events?limit=0x10', 'limit'],
    ['/v1/events?limit=1e3', 'limit'],
    ['/v1/events?limit=%2B5', 'limit'],
    ['/v1/events?limit=%205', 'limit'],
    ['/v1/events?limit=5.0', 'limit'],
    ['/v1/streams/program:x/events?fromVersion=%2B2026', 'fromVersion'],
    ['/v1/streams/program:x/events?limit=-1', 'limit'],
  ];

  it.each(refused)('refuses %s with a 400 naming %s', async (url, parameter) => {
    const response = await call(t.app, 'GET', url);

    expect(response.status).toBe(400);
    expect(response.contentType).toContain('application/problem+json');
    expect(problemOf(response)).toMatchObject({ type: '/problems/validation-failed', errors: [{ parameter, detail: expect.any(String) }] });
  });

  it('accepts plain digits, leading zeros included', async () => {
    const response = await call(t.app, 'GET', '/v1/events?limit=007');

    expect(response.status).toBe(200);
  });
});

describe('query parameters a request does not take', () => {
  const refused: [string, string, string][] = [
    ['/v1/programs/p/milestones?asof=2026-06', 'asof', 'asOf'],
    ['/v1/timeline?program=defense-ax', 'program', 'programId'],
    ['/v1/events?types=mou.signed', 'types', 'type'],
    ['/v1/consortiums/c/status?knownat=2026-06', 'knownat', 'knownAt'],
  ];

  it.each(refused)('refuses %s with a 400 naming %s and the near miss %s, rather than answering without it', async (url, parameter, meant) => {
    const response = await call(t.app, 'GET', url);

    expect(response.status).toBe(400);
    expect(response.contentType).toContain('application/problem+json');
    const problem = problemOf(response);
    expect(problem).toMatchObject({ type: '/problems/validation-failed', errors: [{ parameter, detail: expect.stringContaining(`did you mean '${meant}'?`) }] });
    expect(JSON.stringify(problem)).toContain(meant);
  });

  it('names every unknown parameter, and lists what the request takes when nothing is near', async () => {
    const response = await call(t.app, 'GET', '/v1/programs?zzz=1&qqqqqq=2&limit=5');

    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({
      errors: [
        { parameter: 'zzz', detail: expect.stringMatching(/not a parameter of this request \(it takes .*limit.*\)$/) },
        { parameter: 'qqqqqq', detail: expect.stringContaining('not a parameter') },
      ],
    });
  });

  it('quotes an unknown name of 8,000 characters cut after its first 100, as it quotes a value (until 2026-12-06 whole, twice: probe of unusual text)', async () => {
    const name = 'x'.repeat(8000);
    const response = await call(t.app, 'GET', `/v1/programs?${name}=1`);

    expect(response.status).toBe(400);
    const problem = problemOf(response);
    expect(problem.errors).toEqual([{ parameter: `${'x'.repeat(100)}… (8000 characters)`, detail: expect.stringContaining('not a parameter of this request') }]);
    expect(problem.detail).not.toContain('x'.repeat(101));
  });

  it('refuses a parameter on a request that takes none (expectedVersion in the URL of an append), saying it takes none, and stores nothing', async () => {
    const programId = uniqueId('p');
    const append = await call(t.app, 'POST', '/v1/events?expectedVersion=0', programRegistered(programId));

    expect(append.status).toBe(400);
    expect(problemOf(append)).toMatchObject({
      type: '/problems/validation-failed',
      errors: [{ parameter: 'expectedVersion', detail: 'not a parameter of this request (it takes none)' }],
    });
    expect((await call(t.app, 'GET', `/v1/programs/${programId}`)).status).toBe(404);
    for (const url of ['/v1/event-types?type=mou.signed', `/v1/events/00000000-0000-7000-8000-000000000000?expand=evidence`]) {
      expect((await call(t.app, 'GET', url)).status, url).toBe(400);
    }
    // The board's page carries its view in its URL: outside the API, parameters are the page's own.
    expect((await call(t.app, 'GET', '/?program=defense-ax&asOf=2026-06')).status).toBe(200);
  });

  it('refuses a parameter given more than once, saying so, rather than "expected string, received array" (probe of hostile input)', async () => {
    for (const [url, parameter] of [
      ['/v1/programs?limit=1&limit=2', 'limit'],
      ['/v1/events?type=mou.signed&type=pilot.started', 'type'],
      ['/v1/programs/p/milestones?asOf=2026&asOf=2027&knownAt=2030', 'asOf'],
    ] as const) {
      const response = await call(t.app, 'GET', url);

      expect(response.status, url).toBe(400);
      expect(problemOf(response), url).toMatchObject({
        type: '/problems/validation-failed',
        errors: [{ parameter, detail: expect.stringMatching(/^given 2 times: give it once \(where a parameter takes a list, it is one value, its items separated by commas\)$/) }],
      });
    }
  });

  it('shows an unknown name\'s invisible characters as escapes', async () => {
    const response = await call(t.app, 'GET', '/v1/programs?%1B%5B31m=1');

    expect(problemOf(response).errors).toEqual([{ parameter: '\\u001b[31m', detail: expect.stringContaining('not a parameter of this request') }]);
  });

  it('takes the parameters it names, in any combination', async () => {
    const programId = uniqueId('p');
    await call(t.app, 'POST', '/v1/events', programRegistered(programId));

    for (const url of ['/v1/programs?limit=5&asOf=2026&knownAt=2030', `/v1/timeline?programId=${programId}&from=2026&to=2026&limit=10`, '/v1/events?type=program.registered&limit=1']) {
      expect((await call(t.app, 'GET', url)).status, url).toBe(200);
    }
  });
});

describe('bodies of operations that take none', () => {
  const UNKNOWN = '00000000-0000-7000-8000-000000000000';

  it.each([
    ['DELETE', `/v1/api-keys/${UNKNOWN}`],
    ['DELETE', `/v1/subscriptions/${UNKNOWN}`],
    ['POST', `/v1/subscriptions/${UNKNOWN}/test`],
    ['POST', `/v1/deliveries/${UNKNOWN}/redeliver`],
  ] as const)('%s %s refuses a body with a field, naming it, before it looks anything up', async (method, url) => {
    const response = await call(t.app, method, url, { force: true });

    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({ type: '/problems/validation-failed', detail: expect.stringContaining('unrecognized key: "force"') });
  });

  it('takes an empty body labelled application/json as none, as many clients send a DELETE (until 2026-12-07 refused 400 as empty JSON)', async () => {
    const created = z.object({ id: z.uuid(), key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name: 'labelled revocation', role: 'reader' })).body);

    const revoked = await inject(t.app, { method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' }, payload: '' });

    expect(revoked.statusCode).toBe(200);
    expect((await call(t.app, 'GET', '/v1/programs', undefined, bearer(created.key))).status).toBe(401);
    // White space is not nothing: it is a body, and not JSON.
    const blank = await inject(t.app, { method: 'DELETE', url: `/v1/api-keys/${created.id}`, headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json' }, payload: '  ' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json()).toMatchObject({ type: '/problems/malformed-request' });
  });

  it('revokes no key when the revocation carries a field, and revokes it with {}', async () => {
    const created = z.object({ id: z.uuid(), key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name: 'bodied revocation', role: 'reader' })).body);
    const readsPrograms = async () => (await call(t.app, 'GET', '/v1/programs', undefined, bearer(created.key))).status;

    const refused = await call(t.app, 'DELETE', `/v1/api-keys/${created.id}`, { reason: 'leaked' });
    const stillReads = await readsPrograms();
    const revoked = await call(t.app, 'DELETE', `/v1/api-keys/${created.id}`, {});

    expect(refused.status).toBe(400);
    expect(stillReads).toBe(200);
    expect(revoked.status).toBe(200);
    expect(await readsPrograms()).toBe(401);
  });
});

describe('list parameters that name nothing', () => {
  it.each([
    ['/v1/events?type=', 'type'],
    ['/v1/events?type=,', 'type'],
    ['/v1/events?type=%20', 'type'],
    ['/v1/feed?follow=false&topics=', 'topics'],
    ['/v1/feed?follow=false&topics=%20,', 'topics'],
  ])('refuses %s with a 400 naming %s, rather than answering as if it were left out (everything)', async (url, parameter) => {
    const response = await call(t.app, 'GET', url);

    expect(response.status).toBe(400);
    expect(problemOf(response)).toMatchObject({
      type: '/problems/validation-failed',
      errors: [{ parameter, detail: `${parameter} names nothing: give one or more, separated by commas, or leave ${parameter} out for all` }],
    });
  });

  it('takes a list with blanks and empty items around what it names', async () => {
    await call(t.app, 'POST', '/v1/events', programRegistered(uniqueId('p')));
    // The feed reads below transactions still running, another file's too (it failed once so, in a whole run).
    await waitForFeedHorizon(t.database.db);

    const response = await call(t.app, 'GET', '/v1/events?type=%20program.registered%20,,&limit=1');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ events: [{ type: 'program.registered' }] });
  });
});

describe('a method a path does not take', () => {
  it.each([
    ['PUT', '/v1/events', 'GET, HEAD, POST'],
    ['PUT', '/v1/events/', 'GET, HEAD, POST'],
    ['DELETE', '/v1/events/00000000-0000-7000-8000-000000000000', 'GET, HEAD'],
    ['OPTIONS', '/v1/programs', 'GET, HEAD'],
    ['POST', '/v1/programs/defense-ax/milestones/final-evaluation', 'GET, HEAD'],
    ['DELETE', '/healthz', 'GET, HEAD'],
  ] as const)('%s %s is 405 with Allow: %s, not 404', async (method, url, allow) => {
    const response = await inject(t.app, { method, url, headers: bearer(TEST_ADMIN_KEY) });

    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(JSON.parse(response.body)).toMatchObject({ type: '/problems/method-not-allowed', allowed: allow.split(', ') });
  });

  it('a route of the method asked that finds nothing (an unknown board asset) is still 404', async () => {
    const response = await inject(t.app, { method: 'GET', url: '/board/nope.js' });

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ type: '/problems/not-found' });
  });

  it('a path no route has is still 404, whatever the method', async () => {
    for (const method of ['GET', 'PUT'] as const) {
      const response = await inject(t.app, { method, url: '/v1/nothing-here', headers: bearer(TEST_ADMIN_KEY) });

      expect(response.statusCode, method).toBe(404);
      expect(JSON.parse(response.body), method).toMatchObject({ type: '/problems/not-found' });
    }
  });
});

describe('a path parameter over 100 characters', () => {
  const long = 'a'.repeat(150);

  it('is 414 on a route that takes the method, 405 with Allow on one that does not (not 404)', async () => {
    const read = await inject(t.app, { method: 'GET', url: `/v1/programs/${long}`, headers: bearer(TEST_ADMIN_KEY) });
    const wrongMethod = await inject(t.app, { method: 'DELETE', url: `/v1/programs/${long}`, headers: bearer(TEST_ADMIN_KEY) });

    expect(read.statusCode).toBe(414);
    expect(JSON.parse(read.body)).toMatchObject({ type: '/problems/uri-too-long' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
  });
});

describe('the Authorization header', () => {
  it('accepts the Bearer scheme in any case, with more than one space', async () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const response = await call(t.app, 'GET', '/v1/programs', undefined, { authorization: `${scheme}  ${TEST_ADMIN_KEY}` });

      expect(response.status, scheme).toBe(200);
    }
  });
});

describe('request bodies in a charset other than UTF-8', () => {
  it('refuses application/json; charset=utf-16 with 415, and stores nothing', async () => {
    const programId = uniqueId('p');

    const response = await call(t.app, 'POST', '/v1/events', JSON.stringify(programRegistered(programId)), { 'content-type': 'application/json; charset=utf-16' });

    expect(response.status).toBe(415);
    expect(problemOf(response)).toMatchObject({ type: '/problems/unsupported-media-type', charset: 'utf-16' });
    expect((await call(t.app, 'GET', `/v1/programs/${programId}`)).status).toBe(404);
  });

  it('tells a key whose role may not send the request 403 first, whatever the charset', async () => {
    const created = await call(t.app, 'POST', '/v1/api-keys', { name: 'charset reader', role: 'reader' });
    const key = z.object({ key: z.string() }).parse(created.body).key;

    const response = await call(t.app, 'POST', '/v1/events', '{}', { 'content-type': 'application/json; charset=utf-16', authorization: `Bearer ${key}` });

    expect(response.status).toBe(403);
    expect(problemOf(response).type).toBe('/problems/forbidden');
  });

  it('accepts charset=utf-8 in any spelling', async () => {
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"', 'utf8']) {
      const response = await call(t.app, 'POST', '/v1/events', JSON.stringify(programRegistered(uniqueId('p'))), { 'content-type': `application/json; charset=${charset}` });

      expect(response.status, charset).toBe(201);
    }
  });
});

describe('request bodies as they are sent', () => {
  const programId = () => uniqueId('p');
  const sent = (payload: Buffer, headers: Record<string, string> = {}) =>
    inject(t.app, { method: 'POST', url: '/v1/events', payload, headers: { ...bearer(TEST_ADMIN_KEY), 'content-type': 'application/json', ...headers } });

  it('refuses a body that is not valid UTF-8 with a 400 saying so, and stores nothing (read as text, its bytes would have become U+FFFD)', async () => {
    const id = programId();
    const json = Buffer.from(JSON.stringify(programRegistered(id)).replace('"name":"', '"name":"bad @@ bytes '), 'utf8');
    const at = json.indexOf('@@');
    json[at] = 0xff;
    json[at + 1] = 0xfe;

    const response = await sent(json);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ type: '/problems/malformed-request', detail: expect.stringContaining('not valid UTF-8') });
    expect((await call(t.app, 'GET', `/v1/programs/${id}`)).status).toBe(404);
  });

  it('takes any valid UTF-8, characters outside the BMP included, and stores it as sent', async () => {
    const id = programId();
    const name = 'Défense AX 국방 😀';
    const response = await sent(Buffer.from(JSON.stringify({ ...programRegistered(id), data: { programId: id, name } }), 'utf8'));

    expect(response.statusCode).toBe(201);
    expect((await call(t.app, 'GET', `/v1/programs/${id}`)).body).toMatchObject({ name });
  });

  it.each([
    ['gzip, with a gzip body', 'gzip', (json: string) => gzipSync(json)],
    ['br, on a plain body', 'br', (json: string) => Buffer.from(json)],
    ['a list of codings', 'identity, gzip', (json: string) => Buffer.from(json)],
  ])('refuses a body in a content coding (%s) with a 415 naming it and Accept-Encoding: identity, and stores nothing', async (_case, coding, encode) => {
    const id = programId();

    const response = await sent(encode(JSON.stringify(programRegistered(id))), { 'content-encoding': coding });

    expect(response.statusCode).toBe(415);
    expect(response.headers['accept-encoding']).toBe('identity');
    expect(JSON.parse(response.body)).toMatchObject({ type: '/problems/unsupported-media-type', contentEncoding: coding });
    expect((await call(t.app, 'GET', `/v1/programs/${id}`)).status).toBe(404);
  });

  it.each(['Identity', ''])('takes Content-Encoding: %j, which is no coding', async (coding) => {
    const response = await sent(Buffer.from(JSON.stringify(programRegistered(programId()))), { 'content-encoding': coding });

    expect(response.statusCode).toBe(201);
  });

  it('lets a request without a body through whatever its Content-Encoding or charset says: there is nothing to read', async () => {
    const response = await inject(t.app, {
      method: 'GET',
      url: '/v1/programs',
      headers: { ...bearer(TEST_ADMIN_KEY), 'content-encoding': 'gzip', 'content-type': 'application/json; charset=utf-16' },
    });

    expect(response.statusCode).toBe(200);
  });
});

describe('x-request-id', () => {
  it('echoes a short printable id', async () => {
    const response = await call(t.app, 'GET', '/healthz', undefined, { 'x-request-id': 'trace-42/a:b' });

    expect(response.headers['x-request-id']).toBe('trace-42/a:b');
  });

  it.each([
    ['8,000 characters', 'x'.repeat(8000)],
    ['129 characters', 'x'.repeat(129)],
    ['a space', 'trace 42'],
    ['a control character', 'trace\u007f42'],
  ])('replaces an id with %s by a generated UUID', async (_name, id) => {
    const response = await call(t.app, 'GET', '/healthz', undefined, { 'x-request-id': id });

    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
