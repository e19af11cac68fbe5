import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { endBound } from '../../domain/cut-off.js';
import { fuzzyDateInput } from '../../domain/fuzzy-date.js';
import type { AttemptLogEntry, Deliveries, DeliveryView } from '../../services/deliveries.js';
import { ProblemDetails } from '../problem.js';
import { ById } from '../schemas/by-id.js';
import { NoBody } from '../schemas/no-body.js';
import { refuseBackwardRange } from '../schemas/date-range.js';
import { decimalInteger } from '../schemas/decimal-integer.js';
import { NextCursor, pageQuery } from '../schemas/page.js';

export interface DeliveryRoutesOptions {
  readonly deliveries: Deliveries;
  readonly maxPageSize: number;
}

const DeliveryState = z.enum(['pending', 'in_flight', 'succeeded', 'failed']);

const Delivery = z
  .object({
    id: z.uuid(),
    subscriptionId: z.uuid(),
    notificationId: z.uuid(),
    messageId: z.string().meta({ description: 'The webhook-id header: the same on every attempt and redelivery' }),
    topic: z.string(),
    state: DeliveryState,
    attemptCount: z.int().min(0),
    nextAttemptAt: z.iso.datetime().nullable().meta({ description: 'When a pending delivery is next attempted' }),
    lastStatus: z.int().min(100).max(999).nullable(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Delivery' });

const Attempt = z
  .object({
    attemptNo: z.int().min(1),
    trigger: z.enum(['scheduled', 'manual', 'recover', 'lease_expired']),
    instance: z.string().meta({ description: 'The service instance that made the attempt' }),
    startedAt: z.iso.datetime(),
    durationMs: z.int().min(0),
    responseStatus: z.int().min(100).max(999).nullable(),
    errorKind: z.string().nullable().meta({ description: 'timeout, dns, connect, reset, tls, http, blocked_target, aborted, internal, lease_expired' }),
    errorDetail: z.string().nullable(),
    responseBody: z.string().nullable().meta({ description: 'The first 16 KiB of the response' }),
  })
  .meta({ id: 'DeliveryAttempt' });

const DeliveryWithAttempts = Delivery.extend({ attempts: z.array(Attempt), nextCursor: NextCursor.meta({ description: 'Pass as `after` for the next attempts; absent when these are the last' }) }).meta({
  id: 'DeliveryWithAttempts',
});

const toDelivery = (d: DeliveryView) => ({
  id: d.id,
  subscriptionId: d.subscriptionId,
  notificationId: d.notificationId,
  messageId: d.messageId,
  topic: d.topic,
  state: d.state,
  attemptCount: d.attemptCount,
  nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  completedAt: d.completedAt?.toISOString() ?? null,
});

const toAttempt = (a: AttemptLogEntry) => ({ ...a, startedAt: a.startedAt.toISOString() });

const TAGS = ['notifications'];

/*
 * A range of creation dates, in any form a view's dates take (SPEC §2.1) and meaning what a person
 * means: `since` from the start of its period, `until` through the end of its own, as a timeline's
 * from and to (cut-off.ts).
 */
const RecoverRange = z
  .object({
    since: fuzzyDateInput({ description: 'Failed deliveries created from the start of this date (since=2026-06: from 1 June)', examples: ['2026-06-01T00:00:00Z'] }),
    until: fuzzyDateInput({ description: 'And by the end of this one (until=2026-06: through 30 June); omitted, until now', examples: ['2026-06'] }).optional(),
  })
  .strict()
  .superRefine(({ since, until }, ctx) => refuseBackwardRange(ctx, { name: 'since', date: since }, { name: 'until', date: until }));

export const deliveryRoutes: FastifyPluginAsyncZod<DeliveryRoutesOptions> = async (app, { deliveries, maxPageSize }) => {
  app.get(
    '/v1/subscriptions/:id/deliveries',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'listDeliveries',
        summary: "A subscription's deliveries, newest first",
        params: ById,
        querystring: z.object({
          state: DeliveryState.optional(),
          before: z.uuid().optional().meta({ description: 'nextBefore of the previous page' }),
          limit: decimalInteger(1, maxPageSize, 100),
        }),
        response: {
          200: z.object({ deliveries: z.array(Delivery), nextBefore: z.uuid().optional() }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request) => {
      const page = await deliveries.pageDeliveries(request.params.id, request.query);
      return { deliveries: page.deliveries.map(toDelivery), ...(page.nextBefore !== undefined && { nextBefore: page.nextBefore }) };
    },
  );

  app.get(
    '/v1/deliveries/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'getDelivery',
        summary: 'A delivery and the log of its attempts, oldest first, a page at a time',
        params: ById,
        querystring: z.object(pageQuery(maxPageSize)),
        response: { 200: DeliveryWithAttempts, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      const delivery = await deliveries.getDelivery(request.params.id, { after, limit });
      return {
        ...toDelivery(delivery),
        attempts: delivery.attempts.map(toAttempt),
        ...(delivery.nextCursor !== undefined && { nextCursor: delivery.nextCursor }),
      };
    },
  );

  app.post(
    '/v1/deliveries/:id/redeliver',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'redeliver',
        summary: 'Attempt a delivery again now, with the same webhook-id',
        params: ById,
        body: NoBody,
        response: { 202: Delivery, 400: ProblemDetails, 404: ProblemDetails, 409: ProblemDetails },
      },
    },
    async (request, reply) => reply.code(202).send(toDelivery(await deliveries.redeliver(request.params.id))),
  );

  app.post(
    '/v1/subscriptions/:id/recover',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'recoverDeliveries',
        summary: 'Queue again the failed deliveries created since a date (and by the end of another)',
        params: ById,
        body: RecoverRange,
        response: { 202: z.object({ requeued: z.int().min(0) }), 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request, reply) => {
      const { since, until } = request.body;
      const requeued = await deliveries.recoverDeliveries(request.params.id, since.start, until === undefined ? undefined : endBound(until));
      return reply.code(202).send({ requeued });
    },
  );
};
