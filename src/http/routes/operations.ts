import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PROBLEM_MEDIA_TYPE, ProblemDetails } from '../problem.js';

export interface Readiness {
  readonly database: boolean;
  /** Null when the database could not be asked: whether they are applied is not known then. */
  readonly migrations: boolean | null;
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

  const ReadyBody = z.object({
    status: z.enum(['ready', 'not_ready']),
    database: z.boolean(),
    migrations: z.boolean().nullable().meta({ description: 'Whether every migration is applied; null when the database could not be asked' }),
  });
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'ready',
        summary: 'The database is reachable and every migration is applied',
        response: {
          200: ReadyBody,
          // Not ready; or shutting down, answered as a problem before the check runs.
          503: {
            description: 'Not ready (JSON), or shutting down (problem+json)',
            content: { 'application/json': { schema: ReadyBody }, [PROBLEM_MEDIA_TYPE]: { schema: ProblemDetails } },
          },
        },
      },
    },
    async (_request, reply) => {
      const readiness = await checkReadiness();
      const ready = readiness.database && readiness.migrations === true;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', ...readiness });
    },
  );
};
