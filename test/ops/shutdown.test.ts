import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Agent, request as httpRequest, type ClientRequest, IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type RawBuilder } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { selectEvents } from '../support/stored-events.js';
import { startAppendLoad, type AppendLoad, type AppendOutcome } from '../support/append-load.js';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import { killService, launchService, waitForExit, type ServiceProcess } from '../support/service-process.js';

/*
 * The real service as a child process, on a database of its own (PostgreSQL when the run has one,
 * else a PGlite folder), under eight clients that append without pause over keep-alive connections.
 */

const ADMIN_API_KEY = 'shutdown-test-admin-key';
const CLIENTS = 8;
const LOAD_BEFORE_SIGNAL_MS = 1000;
// Stored before the signal, whatever LOAD_BEFORE_SIGNAL_MS gave on a slow machine: every client is under way.
const CREATED_BEFORE_SIGNAL = 2 * CLIENTS;
// SHUTDOWN_GRACE_MS is 10 s by default; the service exits 1 by itself 5 s after that.
const EXIT_BOUND_MS = 15_000;
// Nothing is left to wait for once the one request is answered; a kept-alive connection would hold the
// service until the forced exit above. The rest is a loaded machine.
const QUIET_CLIENT_EXIT_BOUND_MS = 10_000;
// The grace the trickling client is given: shorter than the default so the test is quick.
const TRICKLE_GRACE_MS = 1500;
// For one append to be answered, and for a signal to be acted on, on a loaded machine.
const ANSWER_BOUND_MS = 10_000;
// Each test starts the service once or twice (up to half a minute each on a slow machine) and runs a load.
const TEST_TIMEOUT_MS = 120_000;

const running: ServiceProcess[] = [];
const databases: ServiceDatabase[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(killService));
  await Promise.all(databases.splice(0).map((database) => database.remove()));
});

async function startService(database: ServiceDatabase, env: Readonly<Record<string, string>> = {}): Promise<ServiceProcess> {
  const service = await launchService({ ...database.env, ADMIN_API_KEY, RATE_LIMIT_PER_MINUTE: '10000000', ...env });
  running.push(service);
  return service;
}

async function registerProgram(service: ServiceProcess): Promise<string> {
  const programId = uniqueId('p');
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(programRegistered(programId)),
  });
  expect(response.status).toBe(201);
  return programId;
}

/** A service on a database of its own with a program registered, ready to take appends. */
async function startFreshService(): Promise<{ database: ServiceDatabase; service: ServiceProcess; programId: string }> {
  const database = await createServiceDatabase();
  databases.push(database);
  const service = await startService(database);
  return { database, service, programId: await registerProgram(service) };
}

/** CLIENTS appending continuously, and under way: at least a second of it and some events stored. */
async function loadUnderWay(service: ServiceProcess, programId: string): Promise<AppendLoad> {
  const load = startAppendLoad({ port: service.port, apiKey: ADMIN_API_KEY, programId, clients: CLIENTS });
  await Promise.all([sleep(LOAD_BEFORE_SIGNAL_MS), load.untilCreated(CREATED_BEFORE_SIGNAL)]);
  return load;
}

const createdIds = (outcomes: readonly AppendOutcome[]) =>
  outcomes.flatMap((outcome) => (outcome.kind === 'answered' && outcome.status === 201 ? outcome.ids : []));

describe('service shutdown', () => {
  it('SIGTERM while 8 clients append continuously: requests in flight complete with a response, every 201 is in the database, and the process exits 0', async () => {
    const { database, service, programId } = await startFreshService();
    const load = await loadUnderWay(service, programId);

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const exit = await waitForExit(service, EXIT_BOUND_MS);
    const outcomes = await load.stop();

    expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
    // The load was running when the signal came: some requests were sent before it and answered after it.
    expect(outcomes.some((o) => o.kind === 'answered' && o.status === 201 && o.sentAt < signalledAt && o.endedAt > signalledAt)).toBe(true);
    expect(outcomes.filter((o) => o.kind !== 'answered' && o.endedAt < signalledAt)).toEqual([]);
    // No response was cut off. A connection may break before any byte of a response only where the server
    // never took the request: a kept-alive connection it closed as idle just as the client reused it, or
    // one still in the listen queue when it stopped listening (RFC 9112 §9.3.1: clients retry those).
    // That it took none of them is checked in the database below.
    expect(outcomes.filter((o) => o.kind === 'unanswered' && o.responseStarted)).toEqual([]);
    // Load shedding while closing answers 503; nothing else but 201.
    expect(outcomes.filter((o) => o.kind === 'answered' && o.status !== 201 && o.status !== 503)).toEqual([]);
    const created = createdIds(outcomes);
    expect(created.length).toBeGreaterThan(CLIENTS);

    const opened = await database.open();
    const stored = await selectEvents(opened.db, { programId, types: ['seminar.held'] }).finally(() => opened.db.destroy());
    const storedIds = new Set(stored.map((event) => event.id));
    expect(created.filter((id) => !storedIds.has(id))).toEqual([]);
    // And the converse: nothing was stored for a request that was not answered 201 (503, broken connection).
    const createdTitles = new Set(outcomes.flatMap((o) => (o.kind === 'answered' && o.status === 201 ? [o.title] : [])));
    expect(stored.map((event) => event.data.title).filter((title) => typeof title !== 'string' || !createdTitles.has(title))).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while a request is still arriving: it is answered with connection: close, and the process exits 0 though its client stays connected', async () => {
    const { service, programId } = await startFreshService();
    const agent = new Agent({ keepAlive: true });
    const body = JSON.stringify(seminarHeld(programId, 'arriving during shutdown'));
    // With Expect: 100-continue the service says when it has read the headers: from then on the request
    // is under way, not an idle connection that closing may drop.
    const request = startRequest(agent, service.port, body, { expect: '100-continue' });
    request.flushHeaders();
    await once(request, 'continue', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    request.write(body.slice(0, 20));

    service.child.kill('SIGTERM');
    await untilClosing(service);
    request.end(body.slice(20));
    const response = await responseTo(request);
    const exit = await waitForExit(service, QUIET_CLIENT_EXIT_BOUND_MS);
    agent.destroy();

    expect(response.status).toBe(201);
    expect(response.connection).toBe('close');
    // A kept-alive connection would hold the server open until its keep-alive timeout (72 s).
    expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
  }, TEST_TIMEOUT_MS);

  it("SIGTERM while a request's body trickles in past the grace: it is answered 503 shutting-down with connection: close, nothing of it is stored, and the process exits 0 (probe of shutdown under load)", async () => {
    const database = await createServiceDatabase();
    databases.push(database);
    const service = await startService(database, { SHUTDOWN_GRACE_MS: String(TRICKLE_GRACE_MS) });
    const programId = await registerProgram(service);
    const agent = new Agent({ keepAlive: true });
    const body = JSON.stringify(seminarHeld(programId, 'trickling past the grace'));
    const request = startRequest(agent, service.port, body, { expect: '100-continue' });
    request.flushHeaders();
    await once(request, 'continue', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    request.write(body.slice(0, 20));
    // The client keeps sending a byte now and then, never the whole body.
    let sent = 20;
    const trickle = setInterval(() => {
      if (sent < body.length - 1 && !request.destroyed) request.write(body.slice(sent, ++sent));
    }, 200);
    request.on('error', () => undefined);

    const signalled = Date.now();
    service.child.kill('SIGTERM');
    const [response] = await once(request, 'response', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    clearInterval(trickle);
    if (!(response instanceof IncomingMessage)) throw new Error('expected a response');
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await once(response, 'end');
    const exit = await waitForExit(service, QUIET_CLIENT_EXIT_BOUND_MS);
    const exitedAfterMs = Date.now() - signalled;
    agent.destroy();

    expect(response.statusCode).toBe(503);
    expect(response.headers.connection).toBe('close');
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(text)).toMatchObject({ type: '/problems/shutting-down', status: 503, detail: expect.stringContaining('nothing of it was stored') });
    expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
    // Within the grace and a loaded machine's moment, well before the watchdog's grace + 5 s.
    expect(exitedAfterMs).toBeLessThan(TRICKLE_GRACE_MS + 4000);
    // The program's registration alone: nothing of the trickling append.
    const opened = await database.open();
    const stored = await selectEvents(opened.db, { programId }).finally(() => opened.db.destroy());
    expect(stored.map((event) => event.type)).toEqual(['program.registered']);
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while one client trickles its headers and another the rest of a body already answered (a 401): both connections end when the grace does, and the process exits 0 (review of the trickling fix)', async () => {
    const database = await createServiceDatabase();
    databases.push(database);
    const service = await startService(database, { SHUTDOWN_GRACE_MS: String(TRICKLE_GRACE_MS) });
    // Headers that never end.
    const headers = await rawConnection(service.port);
    headers.socket.write('GET /v1/programs HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // A body of 1,000 bytes under a key the service refuses: answered 401 at once, the rest still coming.
    const refused = await rawConnection(service.port);
    refused.socket.write('POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer not-a-key-of-this-service\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    await expect.poll(() => refused.socket.bytesRead, { timeout: ANSWER_BOUND_MS }).toBeGreaterThan(0);
    const trickle = setInterval(() => {
      if (!headers.socket.destroyed) headers.socket.write('X-Slow: 1\r\n');
      if (!refused.socket.destroyed) refused.socket.write(' ');
    }, 200);

    const signalled = Date.now();
    service.child.kill('SIGTERM');
    const exit = await waitForExit(service, QUIET_CLIENT_EXIT_BOUND_MS);
    const exitedAfterMs = Date.now() - signalled;
    clearInterval(trickle);
    await Promise.all([headers.closed, refused.closed]);

    expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
    // At the grace, not at the watchdog's grace + 5 s.
    expect(exitedAfterMs).toBeLessThan(TRICKLE_GRACE_MS + 4000);
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while two pipelined appends wait on one connection: both are answered 201 and both stored, the connection ending after the second (probe of the day\'s fixes: the first\'s answer ended it, and the second, stored, went unanswered; PostgreSQL server only: the test holds a lock from a session of its own)', async () => {
    await withEventsLocked(async (held) => {
      const { service, programId, opened } = held;
      // Both sent at once, before any answer: both wait for the lock.
      const { statuses, exit } = await throughShutdown(held, rawAppend(programId, 'pipelined first') + rawAppend(programId, 'pipelined second'));

      expect(statuses).toEqual(['HTTP/1.1 201', 'HTTP/1.1 201']);
      expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
      const stored = await selectEvents(opened.db, { programId, types: ['seminar.held'] });
      // Both stored; in either order, since the two wait for the lock side by side and either may take it first.
      expect(stored.map((event) => event.data.title).sort()).toEqual(['pipelined first', 'pipelined second']);
    });
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while a slow append and a quick read after it share one connection: both are answered in order, and the connection ends after the second, so the process exits 0 long before the grace ends (review of the pipelining fix: the read, answered first, left the connection open until the grace; PostgreSQL server only: the test holds a lock from a session of its own)', async () => {
    await withEventsLocked(async (held) => {
      const { service, programId } = held;
      // The append waits for the lock; the read after it is answered at once, but written after it.
      const { statuses, exit, exitedAfterMs } = await throughShutdown(held, rawAppend(programId, 'slow append') + RAW_READ);

      expect(statuses).toEqual(['HTTP/1.1 201', 'HTTP/1.1 200']);
      expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
      // Not held until the grace (8 s) destroys the connection, nor the watchdog after it.
      expect(exitedAfterMs).toBeLessThan(5000);
    });
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while a slow append waits and a read comes after the signal on its connection: the append is answered 201 and the read 503, in order, the connection ending after the 503 (review of the pipelining fix: the answer to the append ended the connection and the 503 was lost; PostgreSQL server only: the test holds a lock from a session of its own)', async () => {
    await withEventsLocked(async (held) => {
      const { service, programId } = held;
      // The append waits for the lock; the read comes after the signal.
      const { statuses, exit, exitedAfterMs } = await throughShutdown(held, rawAppend(programId, 'slow append'), RAW_READ);

      expect(statuses).toEqual(['HTTP/1.1 201', 'HTTP/1.1 503']);
      expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
      // Not held until the grace (8 s) destroys the connection, nor the watchdog after it.
      expect(exitedAfterMs).toBeLessThan(5000);
    });
  }, TEST_TIMEOUT_MS);

  it('SIGTERM while a request waits for its key to be looked up past the grace: it is answered 503, and the process exits 0 at the grace, not waiting for the look-up (probe of the day\'s fixes: exit 1 by the watchdog; PostgreSQL server only: the test holds a lock from a session of its own)', async () => {
    const database = await createServiceDatabase();
    databases.push(database);
    if (database.kind !== 'postgres') return;
    const service = await startService(database, { SHUTDOWN_GRACE_MS: String(TRICKLE_GRACE_MS) });
    const opened = await database.open();
    const { release } = await holdLock(opened.db, sql`lock table api_key in access exclusive mode`);
    try {
      // A key the instance has never seen: its look-up waits for the lock.
      const answer = fetch(`${service.url}/v1/programs`, { headers: { authorization: `Bearer mlk_${'n'.repeat(32)}` } });
      await sleep(300);

      const signalled = Date.now();
      service.child.kill('SIGTERM');
      const response = await answer;
      const exit = await waitForExit(service, QUIET_CLIENT_EXIT_BOUND_MS);
      const exitedAfterMs = Date.now() - signalled;
      release();

      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ type: '/problems/shutting-down' });
      expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
      // The grace and at least a second for the pool, well before the watchdog's grace + 5 s.
      expect(exitedAfterMs).toBeLessThan(TRICKLE_GRACE_MS + 3500);
    } finally {
      release();
      await opened.db.destroy();
    }
  }, TEST_TIMEOUT_MS);

  it('after kill -9 under the same load, every 201 is still in the database once the service is back', async () => {
    const { database, service: first, programId } = await startFreshService();
    const load = await loadUnderWay(first, programId);

    first.child.kill('SIGKILL');
    await first.exited;
    const outcomes = await load.stop();
    const second = await startService(database);
    const statuses = await readBack(second, createdIds(outcomes));

    const created = createdIds(outcomes);
    expect(created.length).toBeGreaterThan(CLIENTS);
    expect(statuses.filter(({ status }) => status !== 200)).toEqual([]);
    expect(statuses).toHaveLength(created.length);
  }, TEST_TIMEOUT_MS);
});

/** A POST /v1/events whose body the caller sends when it likes. */
/**
 * Runs `work` with a service (a grace of 8 s) on a PostgreSQL database of its own, a program
 * registered, and the event table locked by a session of the test's until `release`. Nothing on
 * PGlite, which is one session: the lock would be the service's own.
 */
async function withEventsLocked(
  work: (held: { service: ServiceProcess; programId: string; opened: { db: Db }; release: () => void }) => Promise<void>,
): Promise<void> {
  const database = await createServiceDatabase();
  databases.push(database);
  if (database.kind !== 'postgres') return;
  const service = await startService(database, { SHUTDOWN_GRACE_MS: '8000' });
  const programId = await registerProgram(service);
  const opened = await database.open();
  const { release } = await holdLock(opened.db, sql`lock table event in exclusive mode`);
  try {
    await work({ service, programId, opened, release });
  } finally {
    release();
    await opened.db.destroy();
  }
}

/**
 * Sends `sent` on a connection of its own while the event table is locked (withEventsLocked), then
 * SIGTERM, then `afterSignal` on the same connection 300 ms later if given, then releases the lock:
 * each response's status line (a body, JSON, ends without a line break before the next), how the
 * process exited, and how long after the signal.
 */
async function throughShutdown(held: { service: ServiceProcess; release: () => void }, sent: string, afterSignal?: string) {
  const { socket, closed } = await rawConnection(held.service.port);
  socket.write(sent);
  await sleep(500);
  const signalled = Date.now();
  held.service.child.kill('SIGTERM');
  if (afterSignal !== undefined) {
    await sleep(300);
    socket.write(afterSignal);
  }
  await sleep(500);
  held.release();
  const received = await closed;
  const exit = await waitForExit(held.service, QUIET_CLIENT_EXIT_BOUND_MS);
  return { statuses: received.match(/HTTP\/1\.1 \d{3}/g), exit, exitedAfterMs: Date.now() - signalled };
}

/** A connection of its own, written raw; `closed` resolves, once it closes, with all it received. */
async function rawConnection(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  // Closed by the service under the client's writes, as the tests expect.
  socket.on('error', () => undefined);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(received))) };
}

/** An append of one seminar as raw HTTP, with the admin key. */
function rawAppend(programId: string, title: string): string {
  const body = JSON.stringify(seminarHeld(programId, title));
  return `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** A read of the programs as raw HTTP, with the admin key. */
const RAW_READ = `GET /v1/programs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_API_KEY}\r\n\r\n`;

/** Takes a lock in a transaction of its own, held until `release`. */
async function holdLock(db: Db, statement: RawBuilder<unknown>): Promise<{ release: () => void }> {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await new Promise<void>((resolveLocked, rejectLocked) => {
    db.transaction()
      .execute(async (trx) => {
        await statement.execute(trx);
        resolveLocked();
        await released;
      })
      .catch(rejectLocked);
  });
  return { release };
}

function startRequest(agent: Agent, port: number, body: string, headers: Record<string, string> = {}): ClientRequest {
  return httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/events',
    agent,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
  });
}

/**
 * Resolves once the service has begun to close, as a signal makes it: it answers a new request 503,
 * or no longer takes connections. Each probe has a connection of its own, closed with its answer.
 */
async function untilClosing(service: ServiceProcess): Promise<void> {
  const deadline = Date.now() + ANSWER_BOUND_MS;
  for (;;) {
    const status = await new Promise<number | 'no connection'>((resolve) => {
      const probe = httpRequest({ host: '127.0.0.1', port: service.port, path: '/healthz', agent: false, headers: { connection: 'close' } }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve('no connection'));
      });
      probe.on('error', () => resolve('no connection'));
      probe.end();
    });
    if (status !== 200) return;
    if (Date.now() > deadline) throw new Error(`the service still answers 200 ${ANSWER_BOUND_MS} ms after SIGTERM`);
    await sleep(20);
  }
}

async function responseTo(request: ClientRequest): Promise<{ status: number; connection: string | undefined }> {
  const [response] = await once(request, 'response', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  if (!(response instanceof IncomingMessage)) throw new Error('expected a response');
  response.resume();
  await once(response, 'end');
  return { status: response.statusCode ?? 0, connection: response.headers.connection };
}

/** GET /v1/events/{id} for each id, a few at a time. */
async function readBack(service: ServiceProcess, ids: readonly string[]): Promise<{ id: string; status: number }[]> {
  const queue = [...ids];
  const statuses: { id: string; status: number }[] = [];
  const reader = async () => {
    for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
      const response = await fetch(`${service.url}/v1/events/${id}`, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } });
      await response.arrayBuffer();
      statuses.push({ id, status: response.status });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, reader));
  return statuses;
}
