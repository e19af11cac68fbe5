import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy to a server, which a test can cut or freeze. Closed, it refuses new connections and
 * drops the open ones, as a database that goes away does to its clients. Frozen, it passes nothing
 * either way and closes nothing, as a network partition does, until thawed.
 */
export interface TcpProxy {
  readonly port: number;
  readonly close: () => Promise<void>;
  readonly freeze: () => void;
  readonly thaw: () => void;
}

export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const links = new Set<{ readonly client: Socket; readonly upstream: Socket }>();
  let frozen = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const link = (client: Socket, upstream: Socket) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    track(client);
    track(upstream);
    const pair = { client, upstream };
    links.add(pair);
    client.once('close', () => {
      links.delete(pair);
      upstream.destroy();
    });
    upstream.once('close', () => client.destroy());
    if (frozen) client.pause();
    else link(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');
  return {
    port: address.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    freeze: () => {
      frozen = true;
      for (const { client, upstream } of links) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    thaw: () => {
      frozen = false;
      for (const { client, upstream } of links) link(client, upstream);
    },
  };
}
