import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, ProblemDetails } from '../../src/http/problem.js';
import { countEvents } from '../support/event-count.js';
import { programRegistered, uniqueId } from '../support/events.js';
import { bearer, inject, TEST_ADMIN_KEY } from '../support/http.js';
import { committedResponses } from '../support/openapi-responses.js';
import { openRaw } from '../support/raw-connection.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => t.close());

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  /** Whether it said X-Content-Type-Options: nosniff. */
  readonly nosniff: boolean;
  readonly body: unknown;
}

/** Sends bytes as they are (no client library to fix them up) and reads the answer until the server closes. */
async function sendRaw(head: string, body = ''): Promise<RawAnswer> {
  const { socket, closed } = await openRaw(t.app);
  socket.write(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n${body}`);
  const { received } = await closed;
  const [headers = '', text = ''] = received.split('\r\n\r\n');
  const [method = '', url = ''] = head.split(' ');
  const answer = { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), contentType: /^content-type: *(.*)$/im.exec(headers)?.[1] ?? '' };
  // Answers that never reach a route are checked against the route the request named.
  committedResponses().assertConforms({ method, url, ...answer, body: text });
  return { ...answer, nosniff: /^x-content-type-options: *nosniff\r?$/im.test(headers), body: JSON.parse(text) };
}

const auth = `Authorization: Bearer ${TEST_ADMIN_KEY}`;
const json = { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) };

type Case = readonly [name: string, status: number, slug: keyof typeof PROBLEM_TYPES, send: () => Promise<RawAnswer>];

const injected =
  (request: { method?: 'GET' | 'POST' | 'PUT'; url: string; headers?: Record<string, string>; payload?: string }) => async (): Promise<RawAnswer> => {
    const response = await inject(t.app, { method: request.method ?? 'GET', url: request.url, headers: request.headers ?? bearer(TEST_ADMIN_KEY), payload: request.payload });
    return { status: response.statusCode, contentType: String(response.headers['content-type']), nosniff: response.headers['x-content-type-options'] === 'nosniff', body: response.json() };
  };

const CASES: readonly Case[] = [
  ['a URL with bad percent-encoding (FST_ERR_BAD_URL)', 400, 'malformed-url', () => sendRaw(`GET /v1/events/% HTTP/1.1\r\n${auth}`)],
  ['a path parameter over 100 characters (FST_ERR_MAX_PARAM_LENGTH)', 414, 'uri-too-long', injected({ url: `/v1/streams/${'s'.repeat(101)}/events` })],
  ['an unknown problem type', 404, 'not-found', injected({ url: '/problems/nope' })],
  ['an unknown route', 404, 'not-found', injected({ url: '/v1/nothing-here' })],
  ['an Accept header that allows none of what a read answers in', 406, 'not-acceptable', injected({ url: '/v1/events', headers: { ...bearer(TEST_ADMIN_KEY), accept: 'application/xml' } })],
  ['a method the path does not take', 405, 'method-not-allowed', injected({ method: 'PUT', url: '/v1/events' })],
  ['Expect: 200-ok (Node answers it before Fastify)', 417, 'expectation-failed', () => sendRaw(`GET /healthz HTTP/1.1\r\nExpect: 200-ok`)],
  ['a text/plain body (FST_ERR_CTP_INVALID_MEDIA_TYPE)', 415, 'unsupported-media-type', injected({ method: 'POST', url: '/v1/events', headers: { ...json, 'content-type': 'text/plain' }, payload: 'hello' })],
  ['a JSON body in UTF-16', 415, 'unsupported-media-type', injected({ method: 'POST', url: '/v1/events', headers: { ...json, 'content-type': 'application/json; charset=utf-16' }, payload: '{}' })],
  ['an empty body labelled JSON where the operation needs one (no body: the body is required)', 400, 'validation-failed', injected({ method: 'POST', url: '/v1/events', headers: json, payload: '' })],
  ['a body that is not JSON (FST_ERR_CTP_INVALID_JSON_BODY)', 400, 'malformed-request', injected({ method: 'POST', url: '/v1/events', headers: json, payload: '{"type":' })],
  ['a JSON body with __proto__', 400, 'malformed-request', injected({ method: 'POST', url: '/v1/api-keys', headers: json, payload: '{"__proto__": {"x": 1}}' })],
  ['a body over the limit (FST_ERR_CTP_BODY_TOO_LARGE)', 413, 'payload-too-large', injected({ method: 'POST', url: '/v1/api-keys', headers: json, payload: JSON.stringify({ name: 'x'.repeat(70_000) }) })],
  [
    'a chunked body in a content coding (no Content-Length)',
    415,
    'unsupported-media-type',
    () => sendRaw(`POST /v1/api-keys HTTP/1.1\r\n${auth}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked`, '2\r\n{}\r\n0\r\n\r\n'),
  ],
  ['a request Node cannot parse (both Content-Length and Transfer-Encoding)', 400, 'malformed-request', () => sendRaw(`POST /v1/api-keys HTTP/1.1\r\n${auth}\r\nContent-Length: 2\r\nTransfer-Encoding: identity`, '{}')],
];

describe('every error is RFC 9457 problem+json', () => {
  it.each(CASES)('%s: %i %s', async (_name, status, slug, send) => {
    const answer = await send();

    expect(answer.status).toBe(status);
    expect(answer.contentType).toContain(PROBLEM_MEDIA_TYPE);
    expect(ProblemDetails.parse(answer.body)).toMatchObject({ type: `/problems/${slug}`, status });
    // The router's and Node's own answers too, which no hook sees (review of nosniff).
    expect(answer.nosniff).toBe(true);
  });

  it('refuses a request with two Authorization headers, whichever comes first, rather than reading the first (401, naming why)', async () => {
    for (const [first, second] of [
      [auth, 'Authorization: Bearer not-a-key-of-this-service'],
      ['Authorization: Bearer not-a-key-of-this-service', auth],
      [auth, auth],
    ]) {
      const answer = await sendRaw(`GET /v1/programs HTTP/1.1\r\n${first}\r\n${second}`);

      expect(answer.status).toBe(401);
      expect(ProblemDetails.parse(answer.body)).toMatchObject({ type: '/problems/unauthorized', detail: expect.stringContaining('more than one Authorization header') });
    }
    expect((await sendRaw(`GET /v1/programs HTTP/1.1\r\n${auth}`)).status).toBe(200);
  });

  it('tells every answer not to be sniffed as another type: a view, a problem, the OpenAPI document, the metrics (probe of every route)', async () => {
    for (const url of ['/v1/programs', '/v1/programs/no-such-program', '/openapi.json', '/metrics']) {
      const response = await inject(t.app, { url, headers: bearer(TEST_ADMIN_KEY) });
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
    }
    // The live feed, whose reply is taken over before any onSend hook (review of nosniff).
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the app is not listening on TCP');
    const stop = new AbortController();
    const feed = await fetch(`http://127.0.0.1:${address.port}/v1/feed`, { headers: bearer(TEST_ADMIN_KEY), signal: stop.signal });
    expect(feed.headers.get('content-type')).toContain('text/event-stream');
    expect(feed.headers.get('x-content-type-options')).toBe('nosniff');
    stop.abort();
  });

  it("cuts the path the router's refusals quote after 100 characters, with its length (probe of the README's claims)", async () => {
    const long = `/v1/streams/${'s'.repeat(3000)}/events`;

    const tooLong = ProblemDetails.parse((await injected({ url: long })()).body);
    const undecodable = ProblemDetails.parse((await sendRaw(`GET ${long}%zz HTTP/1.1\r\n${auth}`)).body);

    expect(tooLong).toMatchObject({ type: '/problems/uri-too-long', detail: `a path parameter of "${long.slice(0, 100)}…" (${long.length} characters) is longer than any this service has` });
    expect(undecodable.type).toBe('/problems/malformed-url');
    expect(undecodable.detail).toContain(`"${long.slice(0, 100)}…" (${long.length + 3} characters) does not decode`);
  });

  it('lists every problem type it answers with at /problems', async () => {
    const response = await inject(t.app, { url: '/problems' });

    const slugs = Object.keys(PROBLEM_TYPES).map((slug) => `/problems/${slug}`);
    expect(response.json()).toEqual({ problemTypes: expect.arrayContaining(slugs.map((type) => expect.objectContaining({ type }))) });
  });
});

describe('a body that is not JSON, and a header sent twice (probe of hostile input, 2026-12-07)', () => {
  const postRaw = (url: string, body: string, extraHeaders = '') =>
    sendRaw(`POST ${url} HTTP/1.1\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}${extraHeaders}`, body);

  it('says where a body stops being JSON, and names a key it refuses instead of calling valid JSON invalid', async () => {
    const cutShort = ProblemDetails.parse((await postRaw('/v1/api-keys', '{"name":"k",')).body);
    const missingComma = ProblemDetails.parse((await postRaw('/v1/api-keys', '{"name":"k" "role":"reader"}')).body);
    const proto = ProblemDetails.parse((await postRaw('/v1/api-keys', '{"name":"k","role":"reader","a":{"__proto__":{}}}')).body);
    const constructor = ProblemDetails.parse((await postRaw('/v1/api-keys', '{"name":"k","role":"reader","constructor":{"prototype":1}}')).body);

    expect(cutShort).toMatchObject({ type: '/problems/malformed-request', detail: expect.stringMatching(/^the body is not valid JSON: .*position 12/) });
    expect(missingComma).toMatchObject({ type: '/problems/malformed-request', detail: expect.stringMatching(/^the body is not valid JSON: .*position 12/) });
    for (const refused of [proto, constructor]) {
      expect(refused.type).toBe('/problems/malformed-request');
      expect(refused.detail).toContain('the body holds a key "__proto__", or a key "constructor" holding "prototype"');
      expect(refused.detail).not.toContain('not valid JSON');
    }
    // An empty body is none: an operation that needs one says it is required.
    expect(ProblemDetails.parse((await postRaw('/v1/api-keys', '')).body)).toMatchObject({
      type: '/problems/validation-failed',
      detail: 'the body is not valid: /: required: a JSON object (the body is empty, missing or null)',
    });
  });

  it('shows the invisible characters of a body that is not JSON as escapes', async () => {
    const answer = ProblemDetails.parse((await postRaw('/v1/api-keys', '\u001b[31m')).body);

    expect(answer.detail).toContain('\\u001b');
    expect(answer.detail).not.toContain('\u001b');
  });

  it('refuses two Idempotency-Key headers, which Node joined into one key, and a key that is not printable ASCII; storing nothing', async () => {
    const event = JSON.stringify(programRegistered(uniqueId('twice')));
    const before = await countEvents(t.database.db);

    const twice = await postRaw('/v1/events', event, '\r\nIdempotency-Key: dup-a\r\nIdempotency-Key: dup-b');
    // é in UTF-8: Node reads the header's bytes as Latin-1.
    const notAscii = await sendRaw(
      `POST /v1/events HTTP/1.1\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(event)}\r\nIdempotency-Key: ${Buffer.from('été', 'utf8').toString('latin1')}`,
      event,
    );

    expect(twice.status).toBe(400);
    expect(ProblemDetails.parse(twice.body)).toMatchObject({
      type: '/problems/validation-failed',
      errors: [{ parameter: 'idempotency-key', detail: 'sent 2 times: send it once' }],
    });
    expect(notAscii.status).toBe(400);
    expect(ProblemDetails.parse(notAscii.body).detail).toContain('an Idempotency-Key is written in printable ASCII');
    expect(await countEvents(t.database.db)).toBe(before);
    // One key, once: stored.
    expect((await postRaw('/v1/events', event, '\r\nIdempotency-Key: dup-a')).status).toBe(201);
  });
});

describe('a batch with a great many faults (review of 2026-12-07)', () => {
  it('is answered 400 with the first faults and how many more, not a 500: 200,000 issues, past what a spread of arguments takes', async () => {
    const blanks = Array.from({ length: 100 }, () => '');
    const events = Array.from({ length: 1000 }, (_, i) => ({
      type: 'consortium.registered',
      occurredAt: '2026',
      data: { consortiumId: `many-faults-${i}`, name: '', lead: '', members: blanks, models: blanks },
    }));
    const before = await countEvents(t.database.db);

    const response = await inject(t.app, { method: 'POST', url: '/v1/events', headers: json, payload: JSON.stringify({ events }) });

    expect(response.statusCode).toBe(400);
    const problem = ProblemDetails.parse(response.json());
    expect(problem.errors).toHaveLength(51);
    expect(problem.errors?.at(-1)?.detail).toMatch(/^and \d{6} more$/);
    expect(await countEvents(t.database.db)).toBe(before);
  });
});
