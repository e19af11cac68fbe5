import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface Readiness {
  readonly database: boolean;
  readonly migrations: boolean;
}

export interface OperationsRoutesOptions {
  /** Checks the database answers and every migration is applied; never throws. */
  readonly checkReadiness: () => Promise<Readiness>;
}

export const operationsRoutes: FastifyPluginAsyncZod<OperationsRoutesOptions> = async (app, { checkReadiness }) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'health',
        summary: 'The process is up',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const ReadyBody = z.object({ status: z.enum(['ready', 'not_ready']), database: z.boolean(), migrations: z.boolean() });
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'ready',
        summary: 'The database is reachable and every migration is applied',
        response: { 200: ReadyBody, 503: ReadyBody },
      },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness();
      const ready = readiness.database && readiness.migrations;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...readiness });
    },
  );
};
