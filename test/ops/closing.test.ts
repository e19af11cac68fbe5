import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/test-app.js';

describe('an instance that is closing', () => {
  it('answers a request whose headers complete after closing began with a 503 problem and connection: close', async () => {
    const t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on a port');
    const socket = connect(address.port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const socketClosed = once(socket, 'close');
    // Half the headers: the connection carries a request under way, which closing does not drop.
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // Time for the server to read them (a connection counts as busy from its first byte parsed).
    await sleep(200);

    const closing = t.app.close();
    // Fastify stops listening after its preClose hooks, the one that marks the instance closing among them.
    while (t.app.server.listening) await sleep(5);
    socket.write('\r\n');
    await socketClosed;
    await closing;
    await t.database.close();

    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(body)).toMatchObject({ type: '/problems/shutting-down', status: 503 });
  });
});
