import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { z } from 'zod';
import { ProblemDetails } from '../../src/http/problem.js';
import { EventEnvelope } from '../../src/domain/event-envelope.js';
import { committedResponses } from './openapi-responses.js';

export interface JsonResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly contentType: string;
  readonly body: unknown;
}

/** The admin key every test app is seeded with; helpers send it unless told otherwise. */
export const TEST_ADMIN_KEY = 'test-admin-key-not-a-secret';

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Sends a request through inject() and checks the answer against the committed OpenAPI document
 * (status declared, media type listed, JSON body valid): every test that calls the API checks the
 * document too, and a mismatch fails the test that met it.
 */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const json = payload !== undefined && typeof payload !== 'string';
  const response = await app.inject({
    method,
    url,
    headers: { ...(json && { 'content-type': 'application/json' }), ...bearer(TEST_ADMIN_KEY), ...headers },
    ...(payload !== undefined && { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });
  const contentType = String(response.headers['content-type'] ?? '');
  committedResponses().assertConforms({ method, url, status: response.statusCode, contentType, body: response.body, headers: response.headers });
  return {
    status: response.statusCode,
    headers: response.headers,
    contentType,
    body: contentType.includes('json') && response.body !== '' ? response.json() : response.body,
  };
}

/** app.inject(), with the answer checked against the committed OpenAPI document as call() checks it. */
export async function inject(app: FastifyInstance, options: InjectOptions & { readonly url: string }): Promise<LightMyRequestResponse> {
  const response = await app.inject(options);
  committedResponses().assertConforms({
    method: options.method ?? 'GET',
    url: options.url,
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: response.body,
    headers: response.headers,
  });
  return response;
}

export const post = (app: FastifyInstance, body: unknown, headers?: Record<string, string>) =>
  call(app, 'POST', '/v1/events', body, headers);
export const get = (app: FastifyInstance, url: string) => call(app, 'GET', url);

const EventList = z.object({ events: z.array(EventEnvelope) });
const FeedPage = EventList.extend({ nextCursor: z.string() });
const StreamPage = EventList.extend({ stream: z.string(), version: z.int(), nextVersion: z.int().optional() });

/** The events of a 201 or of a page, checked against the API's own schema. */
export const eventsOf = (response: JsonResponse) => EventList.parse(response.body).events;
export const feedPageOf = (response: JsonResponse) => FeedPage.parse(response.body);
export const streamPageOf = (response: JsonResponse) => StreamPage.parse(response.body);
export const problemOf = (response: JsonResponse) => ProblemDetails.parse(response.body);

/** Records events and insists they were stored. */
export async function record(app: FastifyInstance, ...events: unknown[]) {
  const response = await post(app, { events });
  if (response.status !== 201) throw new Error(`expected 201, got ${response.status}: ${JSON.stringify(response.body)}`);
  return eventsOf(response);
}
