import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { selectEvents } from '../support/stored-events.js';
import { startAppendLoad, type AppendLoad, type AppendOutcome } from '../support/append-load.js';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import { killService, launchService, type ServiceProcess } from '../support/service-process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/*
 * The real service as a child process, on a database of its own, while PostgreSQL terminates its
 * connections (pg_terminate_backend: what a restart, a failover or an idle-session timeout does too).
 * On PGlite, the database lives inside the service process: there is no connection to terminate.
 */

const ADMIN_API_KEY = 'outage-test-admin-key';
const WRITERS = 8;
const READERS = 4;
const TERMINATIONS = 3;
// SPEC §9: the service reconnects by itself; a client sees 2xx again within this of each termination.
const RECOVERY_BOUND_MS = 5_000;
// Between two terminations, the load stores this many more events: the service is really back.
const CREATED_BETWEEN = 2 * WRITERS;
const TEST_TIMEOUT_MS = 120_000;

const running: ServiceProcess[] = [];
const databases: ServiceDatabase[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(killService));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  await Promise.all(databases.splice(0).map((database) => database.remove()));
});

async function startFreshService(env: Readonly<Record<string, string>> = {}) {
  const database = await createServiceDatabase();
  databases.push(database);
  const service = await launchService({ ...database.env, ADMIN_API_KEY, RATE_LIMIT_PER_MINUTE: '10000000', ...env });
  running.push(service);
  const programId = uniqueId('p');
  const registered = await send(service, 'POST', '/v1/events', programRegistered(programId));
  expect(registered.status).toBe(201);
  return { database, service, programId };
}

async function send(service: ServiceProcess, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/** What one reader request got: a status and content type, or a broken connection. */
interface ReadOutcome {
  readonly status: number | 'failed';
  readonly contentType: string | null;
  readonly sentAt: number;
  readonly endedAt: number;
}

/** READERS clients reading the program's events and views without pause, until stopped. */
function startReaders(service: ServiceProcess, programId: string) {
  const outcomes: ReadOutcome[] = [];
  let stopping = false;
  const paths = [`/v1/events?programId=${programId}&limit=20`, `/v1/programs/${programId}`, `/v1/programs/${programId}/milestones`, '/v1/programs'];
  const runReader = async (reader: number) => {
    const path = paths[reader % paths.length] ?? '/v1/programs';
    while (!stopping) {
      const sentAt = Date.now();
      const outcome = await send(service, 'GET', path).then(
        async (response) => {
          await response.arrayBuffer();
          return { status: response.status, contentType: response.headers.get('content-type'), sentAt, endedAt: Date.now() };
        },
        () => ({ status: 'failed' as const, contentType: null, sentAt, endedAt: Date.now() }),
      );
      outcomes.push(outcome);
    }
  };
  const readers = Promise.all(Array.from({ length: READERS }, (_, reader) => runReader(reader)));
  return {
    outcomes,
    stop: async () => {
      stopping = true;
      await readers;
      return outcomes;
    },
  };
}

/** A connection of the test's own to the server, outside the service's database. */
async function connectAdmin(): Promise<pg.Client> {
  const spec = inject('testDatabase');
  if (spec.kind !== 'postgres') throw new Error('a PostgreSQL server is needed');
  const client = new pg.Client({ connectionString: spec.adminUrl });
  await client.connect();
  return client;
}

const databaseNameOf = (database: ServiceDatabase) => new URL(database.env['DATABASE_URL'] ?? '').pathname.slice(1);

/** Terminates every backend of the service's database (`onlyListen`: only its LISTEN connection); returns how many. */
async function terminateBackends(admin: pg.Client, databaseName: string, onlyListen = false): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where datname = $1 and pid <> pg_backend_pid() and ($2::boolean is false or query ilike 'listen %')`,
    [databaseName, onlyListen],
  );
  await admin.query('select pg_terminate_backend(pid) from unnest($1::int[]) as pid', [rows.map((row) => row.pid)]);
  return rows.length;
}

/** Polls until `check` holds, failing with `what` after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await sleep(20);
  }
}

const isCreated = (o: AppendOutcome) => o.kind === 'answered' && o.status === 201;
const createdIds = (outcomes: readonly AppendOutcome[]) => outcomes.flatMap((o) => (o.kind === 'answered' && o.status === 201 ? o.ids : []));
const Recorded = z.object({ events: z.array(z.object({ id: z.string() })) });
const PROBLEM_JSON = /^application\/problem\+json/;

/** Every 201 is stored exactly once; the only other events stored belong to requests whose outcome the service said it did not know. */
async function expectStoredExactlyOnce(database: ServiceDatabase, programId: string, outcomes: readonly AppendOutcome[]) {
  const opened = await database.open();
  const stored = await selectEvents(opened.db, { programId, types: ['seminar.held'] }).finally(() => opened.db.destroy());
  const created = createdIds(outcomes);
  const storedIds = stored.map((event) => event.id);
  expect(created.filter((id) => !storedIds.includes(id))).toEqual([]);
  expect(new Set(storedIds).size).toBe(storedIds.length);
  const titles = stored.map((event) => String(event.data.title));
  expect(new Set(titles).size).toBe(titles.length);
  const createdTitles = new Set(outcomes.filter(isCreated).map((o) => o.title));
  const unknownTitles = new Set(
    outcomes.filter((o) => o.kind === 'answered' && o.problemType === '/problems/commit-outcome-unknown').map((o) => o.title),
  );
  expect(titles.filter((title) => !createdTitles.has(title) && !unknownTitles.has(title))).toEqual([]);
  return created.length;
}

describe('database outage', () => {
  it(
    `PostgreSQL terminates the service's connections ${TERMINATIONS} times under ${WRITERS} writers and ${READERS} readers: the process stays up, ` +
      'answers 503 problems meanwhile, 2xx again within 5 s of each without a restart, and stores every 201 exactly once ' +
      '(on PGlite, which has no connections to terminate, only the load and the exactly-once check run)',
    async () => {
      const { database, service, programId } = await startFreshService();
      const load: AppendLoad = startAppendLoad({ port: service.port, apiKey: ADMIN_API_KEY, programId, clients: WRITERS });
      const readers = startReaders(service, programId);
      await load.untilCreated(CREATED_BETWEEN);

      const terminations: { at: number; backends: number; recoveredAt: number }[] = [];
      if (database.kind === 'postgres') {
        const admin = await connectAdmin();
        try {
          for (let n = 0; n < TERMINATIONS; n++) {
            const createdBefore = load.outcomesSoFar().filter(isCreated).length;
            const at = Date.now();
            const backends = await terminateBackends(admin, databaseNameOf(database));
            // Only a request sent once every backend was told to end proves a new connection.
            const terminated = Date.now();
            let recoveredAt = 0;
            await until(
              () => {
                const answered = [...readers.outcomes, ...load.outcomesSoFar()];
                const ok = answered.find((o) => o.sentAt > terminated && 'status' in o && typeof o.status === 'number' && o.status < 300);
                recoveredAt = ok?.endedAt ?? 0;
                return ok !== undefined;
              },
              RECOVERY_BOUND_MS,
              () => `no 2xx after termination ${n + 1}; service stderr: ${service.stderr()}`,
            );
            terminations.push({ at, backends, recoveredAt });
            await load.untilCreated(createdBefore + CREATED_BETWEEN);
          }
        } finally {
          await admin.end();
        }
      } else {
        await load.untilCreated(3 * CREATED_BETWEEN);
      }
      const outcomes = await load.stop();
      const reads = await readers.stop();

      // The process never exited, and answers as before.
      expect(service.child.exitCode, service.stderr()).toBeNull();
      expect(service.child.signalCode).toBeNull();
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      for (const termination of terminations) {
        expect(termination.backends).toBeGreaterThan(0);
        expect(termination.recoveredAt - termination.at).toBeLessThan(RECOVERY_BOUND_MS);
      }
      // No connection was broken; every answer that is not 2xx is a problem, and a database outage is a 503.
      expect(outcomes.filter((o) => o.kind !== 'answered')).toEqual([]);
      expect(reads.filter((o) => o.status === 'failed')).toEqual([]);
      const appendFailures = outcomes.flatMap((o) => (o.kind === 'answered' && o.status >= 300 ? [o] : []));
      const readFailures = reads.filter((o) => o.status !== 'failed' && o.status >= 300);
      expect(appendFailures.filter((o) => o.contentType === undefined || !PROBLEM_JSON.test(o.contentType))).toEqual([]);
      expect(readFailures.filter((o) => o.contentType === null || !PROBLEM_JSON.test(o.contentType))).toEqual([]);
      expect(appendFailures.filter((o) => o.status !== 503)).toEqual([]);
      expect(readFailures.filter((o) => o.status !== 503)).toEqual([]);
      expect(
        appendFailures.filter((o) => o.problemType !== '/problems/database-unavailable' && o.problemType !== '/problems/commit-outcome-unknown'),
      ).toEqual([]);
      if (database.kind === 'postgres') {
        // With twelve clients busy, terminating every backend cuts off statements in flight.
        expect(appendFailures.length + readFailures.length).toBeGreaterThan(0);
      }
      // An embedded database's folder is the service's alone while it runs (src/store/data-dir-lock.ts).
      if (database.kind === 'pglite') {
        service.child.kill('SIGTERM');
        await service.exited;
      }
      expect(await expectStoredExactlyOnce(database, programId, outcomes)).toBeGreaterThan(3 * CREATED_BETWEEN - 1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'PostgreSQL terminates the LISTEN connection: it is reopened and webhook deliveries of events recorded afterwards resume, with polling off ' +
      '(on PGlite, which has no connection to terminate, only the delivery before and after runs)',
    async () => {
      const receiver = await startWebhookReceiver();
      receivers.push(receiver);
      // Polling every 10 minutes: only a NOTIFY on a live LISTEN connection can start a delivery in time.
      const { database, service, programId } = await startFreshService({
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_POLL_MS: '600000',
      });
      const subscribed = await send(service, 'POST', '/v1/subscriptions', {
        url: receiver.url('/outage'),
        topics: ['seminar.held'],
        filter: { programId },
      });
      expect(subscribed.status).toBe(201);
      await recordAndExpectDelivery(service, receiver, programId, 'before the termination');

      if (database.kind === 'postgres') {
        const admin = await connectAdmin();
        try {
          const listenerPid = async () => {
            const { rows } = await admin.query<{ pid: number }>(
              `select pid from pg_stat_activity where datname = $1 and query ilike 'listen %'`,
              [databaseNameOf(database)],
            );
            return rows.map((row) => row.pid);
          };
          const [before] = await listenerPid();
          expect(await terminateBackends(admin, databaseNameOf(database), true)).toBe(1);
          await until(
            async () => (await listenerPid()).some((pid) => pid !== before),
            10_000,
            () => `no new LISTEN connection; service stderr: ${service.stderr()}`,
          );
        } finally {
          await admin.end();
        }
      }
      await recordAndExpectDelivery(service, receiver, programId, 'after the termination');

      expect(service.child.exitCode, service.stderr()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});

async function recordAndExpectDelivery(service: ServiceProcess, receiver: WebhookReceiver, programId: string, title: string): Promise<void> {
  const recorded = await send(service, 'POST', '/v1/events', seminarHeld(programId, title));
  expect(recorded.status).toBe(201);
  const { events } = Recorded.parse(await recorded.json());
  const eventId = events[0]?.id ?? 'missing';
  await receiver.waitFor((received) => received.some((r) => r.path === '/outage' && r.body.includes(eventId)), 10_000);
}
