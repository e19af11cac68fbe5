import { NextCursor, pageQuery } from '../schemas/page.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WebhookTargetUrl } from '../../domain/http-url.js';
import { isSafeText, UNSAFE_TEXT_ERROR } from '../../domain/safe-text.js';
import { ConsortiumId, ProgramId } from '../../domain/identifiers.js';
import { Topic } from '../../domain/notification.js';
import { SubscriptionStatus, type SigningSecret, type Subscription as StoredSubscription } from '../../domain/subscription.js';
import type { SubscriptionRegistry } from '../../services/subscriptions.js';
import { ProblemDetails } from '../problem.js';
import { ById } from '../schemas/by-id.js';
import { NoBody } from '../schemas/no-body.js';

export interface SubscriptionRoutesOptions {
  readonly subscriptions: SubscriptionRegistry;
  readonly maxPageSize: number;
}

const DEFAULT_OVERLAP_SECONDS = 86_400;
const MAX_OVERLAP_SECONDS = 7 * 86_400;

const WebhookUrl = WebhookTargetUrl.meta({ description: 'Where deliveries are POSTed; https, to a public address unless the operator allow-lists it', examples: ['https://hooks.example/ledger'] });

const Topics = z
  .array(Topic)
  .min(1)
  .max(50)
  .refine((topics) => new Set(topics).size === topics.length, { error: 'topics must not repeat' })
  .meta({ description: 'Event types, <prefix>.*, * or milestone.status_changed' });

const Filter = z
  .strictObject({ programId: ProgramId.optional(), consortiumId: ConsortiumId.optional() })
  .meta({ id: 'SubscriptionFilter', description: 'Only notifications about this program and/or consortium; an absent field matches all' });

const Description = z.string().max(500).refine(isSafeText, { error: UNSAFE_TEXT_ERROR });

const MaxInFlight = z.int().min(1).max(16).meta({ description: 'Deliveries sent to this endpoint at once (1 sends them one by one)' });

const Subscription = z
  .object({
    id: z.uuid(),
    url: z.string(),
    topics: z.array(z.string()),
    filter: Filter,
    description: z.string().nullable(),
    status: SubscriptionStatus.meta({ description: 'paused: deliveries queue and are not sent; disabled: failing for too long' }),
    disabledReason: z.string().nullable(),
    failingSince: z.iso.datetime().nullable().meta({ description: 'When deliveries began to fail without a success since' }),
    maxInFlight: z.int().min(1),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Subscription' });

const CreatedSubscription = Subscription.extend({
  secret: z.string().meta({ description: 'The whsec_ signing secret (Standard Webhooks); also readable later at …/secret' }),
}).meta({ id: 'CreatedSubscription' });

const NewSubscription = z
  .strictObject({
    url: WebhookUrl,
    topics: Topics,
    filter: Filter.optional(),
    description: Description.optional(),
    maxInFlight: MaxInFlight.optional(),
  })
  .meta({ id: 'NewSubscription' });

const SubscriptionPatch = z
  .strictObject({
    url: WebhookUrl.optional(),
    topics: Topics.optional(),
    filter: Filter.nullable().optional().meta({ description: 'Replaces the filter; null clears it' }),
    description: Description.nullable().optional(),
    maxInFlight: MaxInFlight.optional(),
    status: z
      .enum(['active', 'paused'])
      .optional()
      .meta({ description: 'paused stops sending; active resumes, and re-enables a disabled subscription' }),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), { error: 'name at least one field to change' })
  // The refine does not reach JSON Schema; this says the same in the document.
  .meta({ id: 'SubscriptionPatch', minProperties: 1 });

const SecretList = z
  .object({
    secrets: z.array(
      z.object({
        secret: z.string(),
        createdAt: z.iso.datetime(),
        expiresAt: z.iso.datetime().nullable().meta({ description: 'null for the current secret' }),
      }),
    ),
  })
  .meta({ id: 'SigningSecrets', description: 'Every secret deliveries are signed with now, newest first' });

const toSubscription = (s: StoredSubscription) => ({
  id: s.id,
  url: s.url,
  topics: [...s.topics],
  filter: { ...s.filter },
  description: s.description,
  status: s.status,
  disabledReason: s.disabledReason,
  failingSince: s.failingSince?.toISOString() ?? null,
  maxInFlight: s.maxInFlight,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

const toSecret = (s: SigningSecret) => ({ secret: s.secret, createdAt: s.createdAt.toISOString(), expiresAt: s.expiresAt?.toISOString() ?? null });

const TAGS = ['notifications'];
const BODY_PROBLEMS = { 400: ProblemDetails, 413: ProblemDetails, 415: ProblemDetails } as const;

export const subscriptionRoutes: FastifyPluginAsyncZod<SubscriptionRoutesOptions> = async (app, { subscriptions, maxPageSize }) => {
  app.post(
    '/v1/subscriptions',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'createSubscription',
        summary: 'Subscribe a webhook endpoint to topics; the answer carries its signing secret',
        body: NewSubscription,
        response: { 201: CreatedSubscription, ...BODY_PROBLEMS, 422: ProblemDetails },
      },
    },
    async (request, reply) => {
      const created = await subscriptions.createSubscription(request.body);
      reply.header('location', `/v1/subscriptions/${created.id}`);
      return reply.code(201).send({ ...toSubscription(created), secret: created.secret });
    },
  );

  app.get(
    '/v1/subscriptions',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'listSubscriptions',
        summary: 'Every subscription, oldest first, a page at a time (never their secrets)',
        querystring: z.object(pageQuery(maxPageSize)),
        response: { 200: z.object({ subscriptions: z.array(Subscription), nextCursor: NextCursor }) },
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      const page = await subscriptions.listSubscriptions({ after, limit });
      return { subscriptions: page.items.map(toSubscription), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
    },
  );

  app.get(
    '/v1/subscriptions/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'getSubscription',
        summary: 'One subscription',
        params: ById,
        response: { 200: Subscription, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => toSubscription(await subscriptions.getSubscription(request.params.id)),
  );

  app.patch(
    '/v1/subscriptions/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'updateSubscription',
        summary: 'Change a subscription: pause, resume or re-enable it, or change where and what it is sent',
        params: ById,
        body: SubscriptionPatch,
        response: { 200: Subscription, ...BODY_PROBLEMS, 404: ProblemDetails, 422: ProblemDetails },
      },
    },
    async (request) => {
      const { filter, ...changes } = request.body;
      const updated = await subscriptions.updateSubscription(request.params.id, {
        ...changes,
        ...(filter !== undefined && { filter: filter ?? {} }),
      });
      return toSubscription(updated);
    },
  );

  app.delete(
    '/v1/subscriptions/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'deleteSubscription',
        summary: 'Delete a subscription with its secrets and its deliveries',
        params: ById,
        body: NoBody,
        response: { 204: z.null().meta({ description: 'Deleted' }), 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request, reply) => {
      await subscriptions.deleteSubscription(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/subscriptions/:id/secret',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'getSubscriptionSecrets',
        summary: 'The secrets deliveries are signed with now: the current one and rotated-out ones not yet expired',
        params: ById,
        response: { 200: SecretList, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => ({ secrets: (await subscriptions.getSigningSecrets(request.params.id)).map(toSecret) }),
  );

  app.post(
    '/v1/subscriptions/:id/rotate-secret',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'rotateSubscriptionSecret',
        summary: 'Issue a new signing secret; the old ones keep signing for overlapSeconds (at most 3 sign at once: 409 beyond)',
        params: ById,
        body: z
          .strictObject({
            overlapSeconds: z
              .int()
              .min(0)
              .max(MAX_OVERLAP_SECONDS)
              .default(DEFAULT_OVERLAP_SECONDS)
              .meta({ description: 'How long the previous secrets keep signing; 0 stops them now (a leaked secret)' }),
          })
          // Fastify hands a POST without a body over as null; the body is optional.
          .nullish(),
        response: {
          201: z
            .object({
              secret: z.string(),
              previousSecretsExpireAt: z.iso.datetime().nullable().meta({ description: 'When the secrets it replaces stop signing' }),
            })
            .meta({ id: 'RotatedSecret' }),
          ...BODY_PROBLEMS,
          404: ProblemDetails,
          409: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const rotated = await subscriptions.rotateSecret(request.params.id, request.body?.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS);
      reply.header('location', `/v1/subscriptions/${request.params.id}/secret`);
      return reply.code(201).send({ secret: rotated.secret, previousSecretsExpireAt: rotated.previousSecretsExpireAt?.toISOString() ?? null });
    },
  );

  app.post(
    '/v1/subscriptions/:id/test',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'testSubscription',
        summary: 'Queue a webhook.test ping for this subscription alone',
        params: ById,
        body: NoBody,
        response: {
          202: z.object({ notificationId: z.uuid(), deliveryId: z.uuid().meta({ description: 'Follow the attempt under /v1/deliveries' }) }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => reply.code(202).send(await subscriptions.sendTestPing(request.params.id)),
  );
};
