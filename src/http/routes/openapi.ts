import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const OpenApiDocument = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ description: 'This document: OpenAPI 3.1, generated from the route schemas' });

/** The OpenAPI document, served where SPEC §5 says, and listed in itself. */
export const openApiRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/openapi.json',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'getOpenApi',
        summary: 'This OpenAPI document (browsable at /docs)',
        response: { 200: OpenApiDocument },
      },
    },
    // Checked here for its type; the serializer then passes every member through.
    async () => OpenApiDocument.parse(app.swagger()),
  );
};
