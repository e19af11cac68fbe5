import type { FastifyInstance } from 'fastify';
import type { FinishedRequest } from './metrics.js';

/** The route label of a request no route matched: one series for every unknown URL. */
export const UNMATCHED_ROUTE = '404';

/**
 * Observes every answered request, by route pattern. Registered on the root instance before the
 * routes and the not-found handler, so that it sees them all, refused and failed requests included.
 */
export function registerRequestMetrics(app: FastifyInstance, observe: (request: FinishedRequest) => void): void {
  app.addHook('onResponse', async (request, reply) => {
    observe({
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
  });
}
