import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShuttingDownError } from './error-handler.js';

/**
 * When a shutdown's grace ends, only requests whose handler is under way may still hold the
 * process: their outcome is not ours to cut. Every other connection ends then:
 * - a request taken whose handler has not started (its body still arriving, or a look-up before it)
 *   is answered 503 shutting-down, its connection closed: nothing of it was stored, so its client
 *   may send it again, to another instance;
 * - any other connection (headers still arriving, or the rest of a body Node reads and drops after
 *   an early answer, a 401 say) is closed.
 * Until 2026-12-06 a client trickling its body held close() open until the watchdog ended the
 * process, with exit 1, 5 s after the grace, and got no answer (found by the probe of shutdown under
 * load; the other connections, by the review of the first fix).
 */
export function endConnectionsAfterGrace(app: FastifyInstance, graceMs: number): void {
  /** Requests taken (onRequest) whose handler has not started yet (preValidation comes before it). */
  const waiting = new Map<FastifyRequest, FastifyReply>();
  /** Connections carrying requests whose handler is under way, with how many (pipelined ones share one). */
  const handling = new Map<Socket, number>();
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      handling.delete(socket);
    });
  });
  app.addHook('onRequest', async (request, reply) => {
    waiting.set(request, reply);
  });
  app.addHook('preValidation', async (request) => {
    waiting.delete(request);
    const { socket } = request.raw;
    handling.set(socket, (handling.get(socket) ?? 0) + 1);
  });
  const ended = async (request: FastifyRequest) => {
    // Only a request that reached its handler counts on its connection.
    if (waiting.delete(request)) return;
    const { socket } = request.raw;
    const left = (handling.get(socket) ?? 0) - 1;
    if (left > 0) handling.set(socket, left);
    else handling.delete(socket);
  };
  app.addHook('onResponse', ended);
  app.addHook('onRequestAbort', ended);
  let timer: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    timer = setTimeout(() => {
      const answering = new Set<Socket>();
      for (const [request, reply] of waiting) {
        waiting.delete(request);
        if (reply.sent) continue;
        answering.add(request.raw.socket);
        request.log.warn('shutdown grace over before the request reached its handler: answered 503, nothing stored');
        // The rest of its body, if any, is not read: the connection ends with the answer.
        reply
          .header('connection', 'close')
          .send(new ShuttingDownError(`this instance is shutting down, and its grace of ${graceMs} ms ended before the request reached its handler: nothing of it was stored; send it again (to another instance, or in a moment)`));
      }
      for (const socket of connections) if (!handling.has(socket) && !answering.has(socket)) socket.destroy();
    }, graceMs).unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(timer);
  });
}
