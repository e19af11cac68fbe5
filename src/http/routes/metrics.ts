import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { z } from 'zod';

export interface MetricsRoutesOptions {
  readonly registry: Registry;
}

/** Prometheus scrapes without a key, as it does /healthz: the series name no customer data. */
export const metricsRoutes: FastifyPluginAsyncZod<MetricsRoutesOptions> = async (app, { registry }) => {
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Metrics in the Prometheus text format',
        response: {
          200: {
            description: 'Prometheus exposition format 0.0.4: request counts and latency, appends, projection, feed lag, webhook queue and attempts',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
};
