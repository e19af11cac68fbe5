import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShuttingDownError } from './error-handler.js';

/**
 * Requests whose body is still arriving when a shutdown's grace ends are answered 503
 * shutting-down, their connections closed. Nothing of such a request was stored (a handler runs only
 * once the whole body is in), so its client may send it again, to another instance. Until
 * 2026-12-06 a client trickling its body held close() open until the watchdog ended the process,
 * with exit 1, 5 s after the grace, and got no answer at all (found by the probe of shutdown under
 * load). Requests whose handler is under way are left to finish: their outcome is not ours to cut.
 */
export function refuseUnreceivedBodiesAfterGrace(app: FastifyInstance, graceMs: number): void {
  /** Requests taken (onRequest) whose body has not been read yet (preValidation comes after it). */
  const receiving = new Map<FastifyRequest, FastifyReply>();
  app.addHook('onRequest', async (request, reply) => {
    receiving.set(request, reply);
  });
  app.addHook('preValidation', async (request) => {
    receiving.delete(request);
  });
  app.addHook('onResponse', async (request) => {
    receiving.delete(request);
  });
  app.addHook('onRequestAbort', async (request) => {
    receiving.delete(request);
  });
  let timer: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    timer = setTimeout(() => {
      for (const [request, reply] of receiving) {
        receiving.delete(request);
        if (reply.sent) continue;
        request.log.warn('shutdown grace over while the request body was still arriving: answered 503, nothing stored');
        // The rest of the body is not read: the connection ends with the answer.
        reply
          .header('connection', 'close')
          .send(new ShuttingDownError(`this instance shut down ${graceMs} ms after it was asked to, before the whole request body had arrived: nothing of it was stored; send it again (to another instance, or in a moment)`));
      }
    }, graceMs).unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(timer);
  });
}
