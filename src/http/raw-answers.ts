import type { Socket } from 'node:net';

/**
 * The status Node's own error handler wrote on a connection (answerClientError: a request that did
 * not arrive whole in time, a body it could not parse), for the request under way on it, which no
 * reply of Fastify's will answer: counted with it, not as one its client gave up on (found by the
 * review of the metrics of abandoned requests).
 */
const written = new WeakMap<Socket, number>();

export const noteRawAnswer = (socket: Socket, status: number): void => {
  written.set(socket, status);
};

export const rawAnswerOn = (socket: Socket): number | undefined => written.get(socket);
