import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShuttingDownError } from './error-handler.js';

/** A request taken and not yet answered, and whether its handler has started. */
interface UnderWay {
  readonly reply: FastifyReply;
  readonly socket: Socket;
  handling: boolean;
}

/**
 * What the app does once it is asked to close (SIGTERM, SIGINT: src/main.ts), until it has:
 * - a request that comes then is answered 503 shutting-down (Fastify's own 503 is not problem+json);
 * - each response ends its connection, but for one followed by another request already under way on
 *   it (pipelined): that one's response ends it. A connection kept alive would hold close() for the
 *   keep-alive timeout, and close() drops only the idle ones it finds at the start; ended after the
 *   first response, the connection lost the second's, stored but never answered (found by the
 *   probe of the day's fixes: a client retrying it would have stored it twice);
 * - when the grace ends, only requests whose handler is under way may still hold the process. A
 *   request taken whose handler has not started (its body still arriving, or a look-up before it) is
 *   answered 503 shutting-down: nothing of it was stored, so its client may send it again, to
 *   another instance. Any other connection (headers still arriving, the rest of a body Node reads
 *   and drops after an early answer, a 401 say) is closed. Until 2026-12-06 a client trickling its
 *   body held close() open until the watchdog ended the process, with exit 1, 5 s after the grace,
 *   and got no answer (found by the probe of shutdown under load; the other connections by the review
 *   of the first fix).
 */
export function handleShutdown(app: FastifyInstance, graceMs: number): void {
  let closing = false;
  const underWay = new Map<FastifyRequest, UnderWay>();
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  /** Requests under way on a connection. */
  const onConnection = (socket: Socket) => [...underWay.values()].filter((request) => request.socket === socket);

  app.addHook('onRequest', async (request, reply) => {
    if (closing) throw new ShuttingDownError();
    underWay.set(request, { reply, socket: request.raw.socket, handling: false });
  });
  // preValidation comes once the body is in, just before the handler.
  app.addHook('preValidation', async (request) => {
    const taken = underWay.get(request);
    if (taken !== undefined) taken.handling = true;
  });
  app.addHook('onSend', async (request, reply) => {
    if (closing && onConnection(request.raw.socket).every((other) => other.reply === reply)) reply.header('connection', 'close');
  });
  const ended = async (request: FastifyRequest) => {
    underWay.delete(request);
  };
  app.addHook('onResponse', ended);
  app.addHook('onRequestAbort', ended);

  let timer: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = true;
    timer = setTimeout(() => {
      const answering = new Set<Socket>();
      for (const [request, taken] of underWay) {
        if (taken.handling || taken.reply.sent) continue;
        answering.add(taken.socket);
        request.log.warn('shutdown grace over before the request reached its handler: answered 503, nothing stored');
        // Its connection ends with the answer (onSend), the rest of its body, if any, unread.
        taken.reply.send(new ShuttingDownError(`this instance is shutting down, and its grace of ${graceMs} ms ended before the request reached its handler: nothing of it was stored; send it again (to another instance, or in a moment)`));
      }
      for (const socket of connections) {
        if (!answering.has(socket) && !onConnection(socket).some((request) => request.handling)) socket.destroy();
      }
    }, graceMs).unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(timer);
  });
}
