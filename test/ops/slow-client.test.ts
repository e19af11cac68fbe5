import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { record, TEST_ADMIN_KEY } from '../support/http.js';
import { openRaw } from '../support/raw-connection.js';
import { openSse } from '../support/sse.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const REQUEST_TIMEOUT_MS = 500;
// Node checks for overdue requests every tenth of the timeout; the rest is a loaded CI machine. Still far
// below what a broken timeout would take: Node's own 30 s check interval or 60 s headers timeout.
const CUT_OFF_BOUND_MS = REQUEST_TIMEOUT_MS + 2000;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS, feedPollMs: 50 } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  // The first fetch() of a process loads its HTTP client, which can take a good part of the request
  // timeout on a loaded machine; the first test must be served within it.
  expect(await healthOf(t.app)).toBe(200);
});
afterAll(async () => t.close());

const healthOf = async (app: FastifyInstance): Promise<number> => {
  const address: AddressInfo | string | null = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the app is not listening on TCP');
  const response = await fetch(`http://127.0.0.1:${address.port}/healthz`);
  return response.status;
};

describe('slow clients', () => {
  it('answers 408 and closes the connection of a client that sends half its headers, while others are served', async () => {
    const slow = await openRaw(t.app);
    const startedAt = Date.now();
    slow.socket.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\n`);

    await sleep(REQUEST_TIMEOUT_MS / 5);
    const otherStatus = await healthOf(t.app);
    const stillOpen = !slow.socket.destroyed;
    const { received, at } = await slow.closed;

    expect(otherStatus).toBe(200);
    expect(stillOpen).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
    expect(received).toContain('"type":"/problems/request-timeout"');
    expect(at - startedAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(at - startedAt).toBeLessThan(CUT_OFF_BOUND_MS);
  });

  it('cuts off a client that sends its headers and then trickles the body', async () => {
    const slow = await openRaw(t.app);
    const startedAt = Date.now();
    slow.socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_ADMIN_KEY}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"type":',
    );
    const trickle = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write(' ');
    }, 50);

    const { received, at } = await slow.closed.finally(() => clearInterval(trickle));

    // The headers were routed long ago: the timeout covers the whole request, body included.
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(at - startedAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(at - startedAt).toBeLessThan(CUT_OFF_BOUND_MS);
  });

  it('answers 408 to a client that connects and says nothing', async () => {
    const silent = await openRaw(t.app);
    const startedAt = Date.now();

    const { received, at } = await silent.closed;

    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(at - startedAt).toBeLessThan(CUT_OFF_BOUND_MS);
  });

  it('keeps a live feed open well past the request timeout: the timeout ends once the request is in', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));
    const feed = await openSse(t.app, `/v1/feed?programId=${programId}`);
    await feed.waitFor((messages) => messages.length === 1);

    await sleep(REQUEST_TIMEOUT_MS * 3);
    await record(t.app, seminarHeld(programId, 'after the request timeout'));
    await feed.waitFor((messages) => messages.length === 2);
    const ended = await Promise.race([feed.ended, sleep(0, 'open' as const)]);
    feed.destroy();

    expect(feed.status).toBe(200);
    expect(ended).toBe('open');
  });
});

describe('silent connections', () => {
  const SOCKET_IDLE_TIMEOUT_MS = 400;
  let quiet: TestApp;
  beforeAll(async () => {
    // A long request timeout, so that only the idle timeout can end the connection.
    quiet = await startTestApp({ limits: { requestTimeoutMs: 60_000, socketIdleTimeoutMs: SOCKET_IDLE_TIMEOUT_MS } });
    await quiet.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => quiet.close());

  it('destroys a connection that sends nothing for the socket idle timeout, even mid-request', async () => {
    const idle = await openRaw(quiet.app);
    const startedAt = Date.now();
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    const { received, at } = await idle.closed;

    expect(received).toBe('');
    expect(at - startedAt).toBeGreaterThanOrEqual(SOCKET_IDLE_TIMEOUT_MS - 50);
    // The margin is for a loaded machine; a broken idle timeout would take the default 120 s.
    expect(at - startedAt).toBeLessThan(SOCKET_IDLE_TIMEOUT_MS + 2000);
  });
});
