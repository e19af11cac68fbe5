import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { seminarHeld } from './events.js';
import { call } from './http.js';

export type SampleRequest = () => Promise<{ url: string; body?: unknown }> | { url: string; body?: unknown };

export interface SampleFixture {
  readonly app: FastifyInstance;
  readonly programId: string;
  readonly consortiumId: string;
  readonly eventId: string;
  readonly createKey: (role: 'reader') => Promise<{ id: string }>;
}

/** An IP literal needs no DNS, and a public one passes the default webhook target rules. */
const SAMPLE_WEBHOOK = { url: 'https://93.184.216.34/matrix', topics: ['*'] };

/** A delivery (a test ping's) of a fresh subscription. */
async function createSampleDelivery(app: FastifyInstance): Promise<string> {
  const response = await call(app, 'POST', `/v1/subscriptions/${await createSampleSubscription(app)}/test`);
  const ping = z.object({ deliveryId: z.uuid() }).safeParse(response.body);
  if (!ping.success) throw new Error(`cannot create a sample delivery: ${JSON.stringify(response.body)}`);
  return ping.data.deliveryId;
}

/** A fresh subscription (as the test admin), for routes that need one or use one up. */
async function createSampleSubscription(app: FastifyInstance): Promise<string> {
  const response = await call(app, 'POST', '/v1/subscriptions', SAMPLE_WEBHOOK);
  if (response.status !== 201) throw new Error(`cannot create a sample subscription: ${JSON.stringify(response.body)}`);
  return z.object({ id: z.string() }).parse(response.body).id;
}

/**
 * A request that succeeds for every route, by `METHOD /url/pattern`, for the access matrix. A new
 * route without an entry here fails that test, so no route escapes it.
 */
export function sampleRequests(f: SampleFixture): Record<string, SampleRequest> {
  return {
    'GET /openapi.json': () => ({ url: '/openapi.json' }),
    'GET /healthz': () => ({ url: '/healthz' }),
    'GET /': () => ({ url: '/' }),
    'GET /board/:asset': () => ({ url: '/board/board.js' }),
    'GET /readyz': () => ({ url: '/readyz' }),
    'GET /metrics': () => ({ url: '/metrics' }),
    'GET /problems': () => ({ url: '/problems' }),
    'GET /problems/:slug': () => ({ url: '/problems/forbidden' }),
    'GET /v1/event-types': () => ({ url: '/v1/event-types' }),
    'POST /v1/events': () => ({ url: '/v1/events', body: seminarHeld(f.programId, 'Access matrix seminar') }),
    'GET /v1/events': () => ({ url: '/v1/events?limit=5' }),
    'GET /v1/events/:id': () => ({ url: `/v1/events/${f.eventId}` }),
    'GET /v1/streams/:stream/events': () => ({ url: `/v1/streams/program:${f.programId}/events` }),
    'GET /v1/programs': () => ({ url: '/v1/programs' }),
    'GET /v1/programs/:programId': () => ({ url: `/v1/programs/${f.programId}` }),
    'GET /v1/programs/:programId/milestones': () => ({ url: `/v1/programs/${f.programId}/milestones` }),
    'GET /v1/programs/:programId/milestones/:milestone': () => ({ url: `/v1/programs/${f.programId}/milestones/final-evaluation` }),
    'GET /v1/programs/:programId/milestones/:milestone/evidence': () => ({ url: `/v1/programs/${f.programId}/milestones/final-evaluation/evidence` }),
    'GET /v1/consortiums': () => ({ url: '/v1/consortiums' }),
    'GET /v1/consortiums/:consortiumId/status': () => ({ url: `/v1/consortiums/${f.consortiumId}/status` }),
    'GET /v1/timeline': () => ({ url: `/v1/timeline?programId=${f.programId}` }),
    // follow=false: inject() waits for the response to end, and a following feed never does.
    'GET /v1/feed': () => ({ url: `/v1/feed?programId=${f.programId}&follow=false` }),
    'POST /v1/api-keys': () => ({ url: '/v1/api-keys', body: { name: 'matrix', role: 'reader' } }),
    'GET /v1/api-keys': () => ({ url: '/v1/api-keys' }),
    'GET /v1/api-keys/:id': async () => ({ url: `/v1/api-keys/${(await f.createKey('reader')).id}` }),
    'DELETE /v1/api-keys/:id': async () => ({ url: `/v1/api-keys/${(await f.createKey('reader')).id}` }),
    'POST /v1/subscriptions': () => ({ url: '/v1/subscriptions', body: SAMPLE_WEBHOOK }),
    'GET /v1/subscriptions': () => ({ url: '/v1/subscriptions' }),
    'GET /v1/subscriptions/:id': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}` }),
    'PATCH /v1/subscriptions/:id': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}`, body: { status: 'paused' } }),
    'DELETE /v1/subscriptions/:id': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}` }),
    'GET /v1/subscriptions/:id/secret': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}/secret` }),
    'POST /v1/subscriptions/:id/rotate-secret': async () => ({
      url: `/v1/subscriptions/${await createSampleSubscription(f.app)}/rotate-secret`,
      body: { overlapSeconds: 60 },
    }),
    'GET /v1/subscriptions/:id/deliveries': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}/deliveries` }),
    'POST /v1/subscriptions/:id/recover': async () => ({
      url: `/v1/subscriptions/${await createSampleSubscription(f.app)}/recover`,
      body: { since: '2026-01-01T00:00:00Z' },
    }),
    'GET /v1/deliveries/:id': async () => ({ url: `/v1/deliveries/${await createSampleDelivery(f.app)}` }),
    'POST /v1/deliveries/:id/redeliver': async () => ({ url: `/v1/deliveries/${await createSampleDelivery(f.app)}/redeliver` }),
    'POST /v1/subscriptions/:id/test': async () => ({ url: `/v1/subscriptions/${await createSampleSubscription(f.app)}/test` }),
  };
}
