import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { resolveWithDns } from '../../src/services/webhook-target-check.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from '../../src/webhooks/dispatcher.js';
import type { WebhookSettings } from '../../src/app.js';
import { call } from './http.js';
import type { TestDatabase } from './test-database.js';

/** Webhook targets on this machine's loopback are allowed, as WEBHOOK_ALLOWED_CIDRS=127.0.0.1/32 would. */
export const LOOPBACK_WEBHOOKS: WebhookSettings = {
  rules: { addresses: parseAllowedCidrs('127.0.0.1/32'), allowHttp: false },
  resolve: resolveWithDns,
  defaultMaxInFlight: 4,
};

export const silentLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** A dispatcher on the test database with quick retries (1 s) and short timeouts. */
export function startTestDispatcher(database: TestDatabase, overrides: Partial<DispatcherOptions> = {}): Dispatcher {
  return createDispatcher({
    db: database.db,
    instance: 'test',
    rules: LOOPBACK_WEBHOOKS.rules,
    resolve: resolveWithDns,
    retry: { schedule: [1, 1, 1], maxRetryAfterSeconds: 5 },
    concurrency: 8,
    leaseSeconds: 10,
    connectTimeoutMs: 1000,
    totalTimeoutMs: 2000,
    pollMs: 100,
    disableAfterSeconds: 3600,
    logger: silentLogger,
    listen: database.listen,
    ...overrides,
  });
}

const Created = z.object({ id: z.uuid(), secret: z.string() });

export async function subscribe(app: FastifyInstance, body: Record<string, unknown>): Promise<z.infer<typeof Created>> {
  const response = await call(app, 'POST', '/v1/subscriptions', body);
  if (response.status !== 201) throw new Error(`subscribe: ${response.status} ${JSON.stringify(response.body)}`);
  return Created.parse(response.body);
}
