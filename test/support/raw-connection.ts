import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** A TCP connection to a listening app, for bytes no client library would send (half a request, a broken chunk). */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection, and when that was. */
  readonly closed: Promise<{ readonly received: string; readonly at: number }>;
}

export async function openRaw(app: FastifyInstance): Promise<RawConnection> {
  const address: AddressInfo | string | null = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the app is not listening on TCP');
  const socket = connect(address.port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  // A reset is one way of being cut off; the assertions look at what arrived before it.
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => ({ received, at: Date.now() }));
  return { socket, closed };
}
