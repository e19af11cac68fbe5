import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BLANK_TEXT_ERROR, isLabelText, UNSAFE_LABEL_ERROR } from '../../domain/safe-text.js';
import { Role } from '../../domain/access.js';
import { NextCursor, pageQuery } from '../schemas/page.js';
import type { ApiKey as StoredKey, KeyRegistry } from '../../services/api-keys.js';
import { ProblemDetails } from '../problem.js';
import { ById } from '../schemas/by-id.js';
import { NoBody } from '../schemas/no-body.js';

export interface ApiKeyRoutesOptions {
  readonly keys: KeyRegistry;
  readonly maxPageSize: number;
  /** Called with a key revoked here, so that this instance refuses it at once. */
  readonly onRevoked: (keyId: string) => void;
}

const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: Role,
    keyPrefix: z.string().meta({ description: 'The first characters of the key, to tell keys apart' }),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ApiKey' });

const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({ description: 'The key itself: shown in this response only, stored only as a hash' }),
}).meta({ id: 'CreatedApiKey' });

const NewApiKey = z
  .object({
    name: z.string().trim().min(1, { error: BLANK_TEXT_ERROR }).max(200).refine(isLabelText, { error: UNSAFE_LABEL_ERROR }).meta({ description: 'Who or what uses the key; events name it as their actor' }),
    role: Role,
  })
  .strict()
  .meta({ id: 'NewApiKey' });

const toApiKey = (key: StoredKey) => ({
  id: key.id,
  name: key.name,
  role: key.role,
  keyPrefix: key.keyPrefix,
  createdAt: key.createdAt.toISOString(),
  revokedAt: key.revokedAt?.toISOString() ?? null,
});

const TAGS = ['access'];

export const apiKeyRoutes: FastifyPluginAsyncZod<ApiKeyRoutesOptions> = async (app, { keys, maxPageSize, onRevoked }) => {
  app.post(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'createApiKey',
        summary: 'Create an API key; the key is shown once, in this response',
        body: NewApiKey,
        response: { 201: CreatedApiKey, 400: ProblemDetails },
      },
    },
    async (request, reply) => {
      const created = await keys.createApiKey(request.body.name, request.body.role);
      reply.header('location', `/v1/api-keys/${created.id}`);
      return reply.code(201).send({ ...toApiKey(created), key: created.key });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'listApiKeys',
        summary: 'Every API key, revoked ones included (never the keys themselves), a page at a time, oldest first',
        querystring: z.object(pageQuery(maxPageSize)),
        response: { 200: z.object({ apiKeys: z.array(ApiKey), nextCursor: NextCursor }) },
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      const page = await keys.listApiKeys({ after, limit });
      return { apiKeys: page.items.map(toApiKey), ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }) };
    },
  );

  app.get(
    '/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'getApiKey',
        summary: 'One API key, revoked or not (never the key itself): where the Location of a created key points',
        params: ById,
        response: { 200: ApiKey, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => toApiKey(await keys.getApiKey(request.params.id)),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: TAGS,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key: requests with it are refused from now on',
        params: ById,
        body: NoBody,
        response: { 200: ApiKey, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => {
      const revoked = await keys.revokeApiKey(request.params.id);
      onRevoked(revoked.id);
      return toApiKey(revoked);
    },
  );
};
