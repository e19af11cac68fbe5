import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import {
  findFreePort,
  killService,
  spawnService,
  waitForExit,
  waitUntilReady,
  type ServiceCommand,
  type ServiceProcess,
} from '../support/service-process.js';

/*
 * The README's start command, `npm start`, as a user runs it: it compiles the service with tsc and
 * runs the JavaScript under node. A user's `kill <pid>` signals npm, not the service: npm must pass
 * the signal on, and the service must close gracefully rather than be orphaned and keep serving.
 */

const ADMIN_API_KEY = 'production-start-admin-key';
const NPM_START: ServiceCommand = { file: 'npm', args: ['start'] };
// `npm start` type-checks and compiles first: about 5 s on an idle 2-core machine, much more under the suite.
const READY_BOUND_MS = 150_000;
// For one request to be answered, and for a signal to be acted on, on a loaded machine.
const ANSWER_BOUND_MS = 10_000;
// SHUTDOWN_GRACE_MS is 10 s by default; the service exits 1 by itself 5 s after that.
const EXIT_BOUND_MS = 15_000;
const TEST_TIMEOUT_MS = 240_000;

let service: ServiceProcess | undefined;
let database: ServiceDatabase | undefined;
// The processes under npm once the service was ready: if npm failed to pass a signal on, they outlive it.
let seenUnderNpm: number[] = [];
afterEach(async () => {
  // Whatever a failed test left, what npm started first, since killing npm would orphan them.
  const underNpm = service?.child.pid === undefined ? [] : descendantsOf(service.child.pid);
  for (const pid of new Set([...underNpm, ...seenUnderNpm])) killQuietly(pid);
  await killService(service);
  seenUnderNpm = [];
  await database?.remove();
  service = undefined;
  database = undefined;
});

describe('npm start (the README start command)', () => {
  it('runs node on the compiled JavaScript, and SIGTERM to the npm process answers the request in flight, exits 0 and leaves no process behind', async () => {
    database = await createServiceDatabase();
    const port = await findFreePort();
    service = spawnService({ ...database.env, ADMIN_API_KEY, LOG_LEVEL: 'info' }, port, NPM_START);
    await waitUntilReady(service, READY_BOUND_MS);
    const npmPid = pidOf(service);
    seenUnderNpm = descendantsOf(npmPid);
    const [servicePid, ...others] = childrenOf(npmPid);
    const argv = servicePid === undefined ? [] : commandLine(servicePid);
    const programId = await registerProgram(service);
    // With Expect: 100-continue the service says when it has read the headers: the request is under way.
    const body = JSON.stringify(seminarHeld(programId, 'in flight at SIGTERM'));
    const request = startRequest(port, body);
    request.flushHeaders();
    await once(request, 'continue', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    request.write(body.slice(0, 20));

    process.kill(npmPid, 'SIGTERM');
    await untilClosing(port);
    request.end(body.slice(20));
    const response = await responseTo(request);
    const exit = await waitForExit(service, EXIT_BOUND_MS);

    // npm's one child is node itself (no shell, no tsx in between), and it is the process that listened.
    expect(others).toEqual([]);
    expect(basename(argv[0] ?? '')).toBe('node');
    expect(argv.filter((arg) => arg.includes('tsx'))).toEqual([]);
    expect(argv.at(-1)).toMatch(/^dist\/.+\.js$/);
    expect(readyLogPid(service.stdout())).toBe(servicePid);
    // The request in flight got its whole response: status, and a body that parses to the recorded event.
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body)).toMatchObject({ events: [{ type: 'seminar.held', data: { title: 'in flight at SIGTERM' } }] });
    expect(exit, service.stderr()).toEqual({ code: 0, signal: null });
    expect(service.stdout()).toContain('"signal":"SIGTERM","msg":"shutting down"');
    // Nothing is left running: the service's process is gone and its port takes no connections.
    expect(existsSync(`/proc/${servicePid}`)).toBe(false);
    expect(await acceptsConnections(port)).toBe(false);
  }, TEST_TIMEOUT_MS);
});

function pidOf(started: ServiceProcess): number {
  if (started.child.pid === undefined) throw new Error('npm did not start');
  return started.child.pid;
}

/** The processes `pid` started that still run (Linux: /proc). */
function childrenOf(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split(' ').filter(Boolean).map(Number);
}

function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [...descendantsOf(child), child]);
}

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The pid in the service's "milestone-ledger is ready" log line. */
function readyLogPid(log: string): number | undefined {
  for (const line of log.split('\n')) {
    if (!line.includes('"msg":"milestone-ledger is ready"')) continue;
    const entry: unknown = JSON.parse(line);
    if (typeof entry === 'object' && entry !== null && 'pid' in entry && typeof entry.pid === 'number') return entry.pid;
  }
  return undefined;
}

async function registerProgram(started: ServiceProcess): Promise<string> {
  const programId = uniqueId('p');
  const response = await fetch(`${started.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(programRegistered(programId)),
  });
  expect(response.status).toBe(201);
  return programId;
}

/** A POST /v1/events on a connection of its own, whose body the caller sends when it likes. */
function startRequest(port: number, body: string): ClientRequest {
  return httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/events',
    agent: false,
    headers: {
      authorization: `Bearer ${ADMIN_API_KEY}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    },
  });
}

/** Resolves once the service has begun to close: it answers a new request 503, or takes no connections. */
async function untilClosing(port: number): Promise<void> {
  const deadline = Date.now() + ANSWER_BOUND_MS;
  for (;;) {
    const status = await new Promise<number | 'no connection'>((resolve) => {
      const probe = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false, headers: { connection: 'close' } }, (response) => {
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

async function responseTo(request: ClientRequest): Promise<{ status: number; body: string }> {
  const [response] = await once(request, 'response', { signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
  if (!(response instanceof IncomingMessage)) throw new Error('expected a response');
  response.setEncoding('utf8');
  let body = '';
  response.on('data', (chunk: string) => (body += chunk));
  await once(response, 'end');
  return { status: response.statusCode ?? 0, body };
}

async function acceptsConnections(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  return once(socket, 'connect').then(
    () => (socket.destroy(), true),
    () => false,
  );
}
