import { describe, expect, it } from 'vitest';
import { committedResponses } from '../support/openapi-responses.js';
import { call } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();
const responses = committedResponses();
const EVENT = '/v1/events/3f2b8c1e-6a4d-4b7e-9c1a-2d5e8f0a1b3c';

describe('response validation against openapi/openapi.json (run by every call() of the suite)', () => {
  it('passes an answer the service gives, and call() runs it', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/event-types', headers: { authorization: 'Bearer test-admin-key-not-a-secret' } });

    expect(responses.problemsWith({ method: 'GET', url: '/v1/event-types', status: response.statusCode, contentType: String(response.headers['content-type']), body: response.body })).toEqual([]);
    expect((await call(t.app, 'GET', '/v1/event-types')).status).toBe(200);
  });

  it('rejects a JSON body that breaks the schema, naming the operation, the status and the field', () => {
    const problems = responses.problemsWith({ method: 'GET', url: EVENT, status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ id: 'not-a-uuid', position: 'first' }) });

    expect(problems.join('\n')).toMatch(/getEvent \(GET \/v1\/events\/\{id\}\) 200 application\/json: \/id must match format "uuid"/);
    expect(problems.join('\n')).toContain("must have required property 'stream'");
    expect(() => responses.assertConforms({ method: 'GET', url: EVENT, status: 200, contentType: 'application/json', body: '{}' })).toThrow(/getEvent/);
  });

  it('rejects a status the operation does not declare, and a media type it does not list', () => {
    expect(responses.problemsWith({ method: 'GET', url: '/healthz', status: 418, contentType: 'application/json', body: '{}' })).toEqual([
      expect.stringMatching(/^health \(GET \/healthz\) 418: status 418 is not declared/),
    ]);
    expect(responses.problemsWith({ method: 'GET', url: '/v1/programs', status: 200, contentType: 'text/html', body: '<p>' })).toEqual([
      expect.stringMatching(/listPrograms .* content type text\/html is not declared/),
    ]);
  });

  it('checks problems as application/problem+json, on routes and off them', () => {
    const incomplete = JSON.stringify({ type: '/problems/not-found', status: 404 });

    expect(responses.problemsWith({ method: 'GET', url: EVENT, status: 404, contentType: 'application/problem+json', body: incomplete })).toEqual([
      expect.stringMatching(/getEvent .* 404 application\/problem\+json: \(body\) must have required property 'title'/),
    ]);
    expect(responses.problemsWith({ method: 'GET', url: EVENT, status: 404, contentType: 'application/json', body: incomplete })).toEqual([
      expect.stringMatching(/content type application\/json is not declared \(declared: application\/problem\+json\)/),
    ]);
    expect(responses.problemsWith({ method: 'GET', url: '/nowhere', status: 404, contentType: 'application/problem+json', body: incomplete })).toHaveLength(1);
  });

  it("rejects a header a client acts on that the document does not declare where it was sent (until 2026-12-06 none was declared: probe of the OpenAPI document)", () => {
    const sent = { method: 'GET', url: '/v1/timeline', status: 200, contentType: 'text/csv; charset=utf-8', body: 'occurredAt\r\n' };

    expect(responses.problemsWith({ ...sent, headers: { link: '</v1/timeline?after=x>; rel="next"', 'x-ratelimit-remaining': '5', 'x-request-id': 'r' } })).toEqual([]);
    expect(responses.problemsWith({ ...sent, headers: { location: '/v1/timeline' } })).toEqual([expect.stringMatching(/getTimeline .* 200: header location is not declared/)]);
    expect(responses.problemsWith({ method: 'GET', url: '/healthz', status: 200, contentType: 'application/json', body: '{"status":"ok"}', headers: { 'retry-after': '1' } })).toHaveLength(1);
  });

  it('checks text answers for their media type only', () => {
    const csv = { method: 'GET', url: '/v1/timeline', status: 200, body: 'occurredAt,start\r\n' };

    expect(responses.problemsWith({ ...csv, contentType: 'text/csv; charset=utf-8' })).toEqual([]);
    expect(responses.problemsWith({ ...csv, contentType: 'text/plain' })).toHaveLength(1);
  });
});
