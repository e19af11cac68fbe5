import type { FastifyInstance } from 'fastify';
import type { FinishedRequest } from './metrics.js';
import { rawAnswerOn } from './raw-answers.js';

/** The route label of a request no route matched: one series for every unknown URL. */
export const UNMATCHED_ROUTE = '404';

/** The status label of a request its client gave up on before any answer was sent (nginx's "client closed request"). */
export const CLIENT_CLOSED = 499;

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
  // A request whose client went away before its answer was written whole never reaches onResponse:
  // every live feed a client closed, and every request a client or a load balancer gave up on
  // while it waited (a lock, a slow database), went uncounted and unlogged (found by the probe of
  // the metrics). Counted here with the status sent, or 499 if none was, and said in the log.
  // One listener, and a hook without a promise, as it runs on every request (the first version had
  // three and an async hook; side by side with none, the difference stayed within the rounds' spread).
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.once('close', () => {
      // Ended by the service (end() called): written whole or failing, which onResponse counts.
      if (reply.raw.writableEnded) return;
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      const seconds = reply.elapsedTime / 1000;
      const responseTime = Math.round(seconds * 1000);
      // Answered by Node's own error handler, not left by its client (a 408, a body it could not parse).
      const raw = rawAnswerOn(request.raw.socket);
      if (raw !== undefined) {
        observe({ method: request.method, route, status: raw, seconds });
        request.log.info({ status: raw, responseTime }, "request answered by Node's HTTP parser before it arrived whole");
        return;
      }
      const status = reply.raw.headersSent ? reply.raw.statusCode : CLIENT_CLOSED;
      observe({ method: request.method, route, status, seconds });
      // A live feed ends so whenever its reader closes it: not said as a request given up on.
      const said = reply.raw.headersSent ? 'client went away while its answer was being written (a live feed it closed, say)' : 'request abandoned by its client before any answer';
      request.log.info({ status, responseTime }, said);
    });
    done();
  });
}
