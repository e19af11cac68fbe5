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
 * - a connection ends with the response of the last request that came on it: Node writes a
 *   connection's responses in the order their requests came (pipelined), so that one is written
 *   last, whichever is answered first. Ended with the first response, the connection lost the
 *   second's, stored but never answered, or a later request's 503 (found by the probe of the day's
 *   fixes: a client retrying it would have stored it twice; and by the review of the first fix of
 *   it, which decided by the requests still under way when each answer was made, and left a
 *   connection open when the later request was answered first). A connection with nothing under way
 *   is ended as soon as its last response is written, whatever it said. Not seen here: a request
 *   Fastify answers before any hook runs (a malformed URL such as `/%zz`, answerFrameworkError), whose
 *   connection may then stay open until the grace ends (found by the review). A connection kept alive
 *   would hold close() for the keep-alive timeout, and close() drops only the idle ones it finds at
 *   the start;
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
  /** The requests under way on each connection, in the order they came. */
  const bySocket = new Map<Socket, FastifyRequest[]>();
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      bySocket.delete(socket);
    });
  });

  app.addHook('onRequest', async (request, reply) => {
    const { socket } = request.raw;
    underWay.set(request, { reply, socket, handling: false });
    // Every request passes here: one push, most connections carrying one request at a time.
    const onSocket = bySocket.get(socket);
    if (onSocket === undefined) bySocket.set(socket, [request]);
    else onSocket.push(request);
    // Counted first: its 503 may be the last response its connection writes.
    if (closing) throw new ShuttingDownError();
  });
  // preValidation comes once the body is in, just before the handler.
  app.addHook('preValidation', async (request) => {
    const taken = underWay.get(request);
    if (taken !== undefined) taken.handling = true;
  });
  app.addHook('onSend', async (request, reply) => {
    if (closing && bySocket.get(request.raw.socket)?.at(-1) === request) reply.header('connection', 'close');
  });
  const ended = async (request: FastifyRequest) => {
    const taken = underWay.get(request);
    if (taken === undefined) return;
    underWay.delete(request);
    const onSocket = bySocket.get(taken.socket) ?? [];
    const at = onSocket.indexOf(request);
    if (at >= 0) onSocket.splice(at, 1);
    if (onSocket.length > 0) return;
    bySocket.delete(taken.socket);
    // Its last response is written: nothing more will come on it (a request aborted last, say).
    if (closing && !taken.socket.destroyed) taken.socket.end();
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
        // The rest of its body, if any, is not read: its connection ends with its last answer.
        taken.reply.send(new ShuttingDownError(`this instance is shutting down, and its grace of ${graceMs} ms ended before the request reached its handler: nothing of it was stored; send it again (to another instance, or in a moment)`));
      }
      const handling = new Set([...underWay.values()].filter((taken) => taken.handling).map((taken) => taken.socket));
      for (const socket of connections) if (!handling.has(socket) && !answering.has(socket)) socket.destroy();
    }, graceMs).unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(timer);
  });
}
