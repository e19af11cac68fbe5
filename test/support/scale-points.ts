import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { z } from 'zod';
import type { EventBody } from './scale-history.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BARE_ROUTES = 'test/bench/bare-routes.ts';
const BARE_START_MS = 60_000;
const BARE_STOP_MS = 10_000;

/*
 * The measured points of the scale benchmark: GETs and single appends with autocannon, plain `pg`
 * INSERTs of the same rows, bare Fastify routes each doing one indexed SELECT, and the service's RSS.
 */

export interface HttpPoint {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Non-2xx answers, connection errors and timeouts. */
  readonly failed: number;
}

export interface GetTarget {
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * GETs at `connections` for `seconds`. At c1 the load runs in this thread and each response time is
 * kept to the microsecond (autocannon's histogram keeps whole milliseconds, too coarse for a 10 ms
 * target); above, autocannon runs in a worker thread, so that this thread's event loop stays free.
 */
export async function measureGet(target: GetTarget, connections: number, seconds: number, timeoutSeconds: number): Promise<HttpPoint> {
  const options = { url: `${target.url}${target.path}`, headers: { ...target.headers }, connections, duration: seconds, timeout: timeoutSeconds };
  if (connections > 1) {
    const result = await autocannon({ ...options, workers: 1 });
    return { rps: result['2xx'] / seconds, p50: result.latency.p50, p99: result.latency.p99, failed: result.non2xx + result.errors };
  }
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, done: autocannon.Result) => (error === null || error === undefined ? resolve(done) : reject(toError(error))));
    // autocannon emits (client, statusCode, bytes, responseTime); its types omit the client.
    instance.on('response', (...args: unknown[]) => {
      const status = args.at(-3);
      const time = args.at(-1);
      if (typeof status === 'number' && status < 300 && typeof time === 'number') times.push(time);
    });
  });
  const latency = percentiles(times);
  return { rps: result['2xx'] / seconds, p50: latency.p50, p99: latency.p99, failed: result.non2xx + result.errors };
}

const toError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

function percentiles(values: number[]): { p50: number; p99: number } {
  values.sort((a, b) => a - b);
  const at = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Single-event POST /v1/events at `connections`, each request a new body. */
export async function measureAppends(
  target: Omit<GetTarget, 'path'>,
  connections: number,
  seconds: number,
  nextBody: () => EventBody,
): Promise<HttpPoint> {
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json', ...target.headers },
        setupRequest: (request) => ({ ...request, body: JSON.stringify(nextBody()) }),
      },
    ],
  });
  return { rps: result['2xx'] / seconds, p50: result.latency.p50, p99: result.latency.p99, failed: result.non2xx + result.errors };
}

/**
 * An idle client's connection ended by the server (the bench database dropped with force at the end):
 * without a listener the pool's 'error' event would end the process after the report.
 */
const ignoreIdleClientError = () => undefined;

const DAY_MS = 86_400_000;

/** The interval a day (YYYY-MM-DD) or a quarter (YYYY-Qn) denotes, as the service stores it. */
function intervalOf(occurredAt: string): { precision: string; start: Date; end: Date } {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(occurredAt);
  if (quarter !== null) {
    const year = Number(quarter[1]);
    const q = Number(quarter[2]);
    return { precision: 'quarter', start: new Date(Date.UTC(year, (q - 1) * 3, 1)), end: new Date(Date.UTC(year, q * 3, 1)) };
  }
  const start = new Date(`${occurredAt}T00:00:00Z`);
  return { precision: 'day', start, end: new Date(start.getTime() + DAY_MS) };
}

const text = (data: Readonly<Record<string, unknown>>, key: string): string | null => {
  const value = data[key];
  return typeof value === 'string' ? value : null;
};

/**
 * The same rows as the single appends, each one plain INSERT into the event table by `connections`
 * clients. Each client writes its own stream (unique stream_version) under a program id no view reads,
 * so the rows cost the same indexes but never show in the service's answers.
 */
export async function measurePgInserts(databaseUrl: string, connections: number, seconds: number, nextBody: () => EventBody): Promise<HttpPoint> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  pool.on('error', ignoreIdleClientError);
  const statement = `insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
    occurred_start, occurred_end, data, sources, metadata, program_id, consortium_id, milestone)
    values ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'scale-baseline', $12, $13)`;
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const stream = `program:scale-baseline-${randomUUID()}`;
        for (let version = 1; Date.now() < deadline; version++) {
          const e = nextBody();
          const interval = intervalOf(e.occurredAt);
          const started = performance.now();
          await pool.query(statement, [
            // The service's kind of id (record-events.ts): a random one would cost the baseline a page of its index each.
            timeOrderedUuid(), e.type, stream, version, e.occurredAt, interval.precision, interval.start, interval.end,
            JSON.stringify(e.data), JSON.stringify(e.sources ?? []), JSON.stringify({ actor: 'scale-bench', requestId: randomUUID() }),
            text(e.data, 'consortiumId'), text(e.data, 'milestone'),
          ]);
          latencies.push(performance.now() - started);
        }
      }),
    );
  } finally {
    await pool.end();
  }
  return { rps: latencies.length / seconds, ...percentiles(latencies), failed: 0 };
}

/** One indexed SELECT of the rows a view shows, without the view's work: the baseline of its c32 rate. */
export interface BareQuery {
  readonly name: string;
  readonly sql: string;
  readonly params: readonly string[];
}

export interface BareRoutes {
  readonly url: string;
  /** The path that runs the named query. */
  path(name: string): string;
  close(): Promise<void>;
}

/**
 * The young generation's size `npm start` gives the service (package.json, as the Dockerfile's): the
 * bench starts the service with it, and the bare routes too, so that a view and its baseline differ
 * in their work, not in their collector.
 */
export const YOUNG_GENERATION = await startFlag(/^--max-semi-space-size=\d+$/);

async function startFlag(pattern: RegExp): Promise<string> {
  const scripts = z.object({ scripts: z.object({ start: z.string() }) }).parse(JSON.parse(await readFile(`${ROOT}/package.json`, 'utf8')));
  const flag = scripts.scripts.start.split(/\s+/).find((arg) => pattern.test(arg));
  if (flag === undefined) throw new Error(`npm start gives node no flag like ${String(pattern)}`);
  return flag;
}

/**
 * The bare routes (test/bench/bare-routes.ts) in a process of their own, GET /bare/<index> a
 * query each: the query over `pg`, its rows returned as JSON. Issue 9 measures each view beside "a
 * bare Fastify route doing one indexed SELECT of the same rows"; like the service, they do not
 * share an event loop with the load generator.
 */
export async function startBareRoutes(databaseUrl: string, poolSize: number, queries: readonly BareQuery[]): Promise<BareRoutes> {
  const child = spawn(process.execPath, [YOUNG_GENERATION, '--import', 'tsx', BARE_ROUTES], {
    cwd: ROOT,
    env: {
      ...process.env,
      BARE_DATABASE_URL: databaseUrl,
      BARE_POOL_SIZE: String(poolSize),
      BARE_QUERIES: JSON.stringify(queries.map((q) => ({ sql: q.sql, params: q.params }))),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  // Rejected if the process could not start: that is reported below, not as an unhandled rejection.
  exited.catch(() => undefined);
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bare routes did not listen within ${BARE_START_MS} ms`)), BARE_START_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare routes exited (${String(code)}) before listening`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (!url.startsWith('http://')) {
    child.kill('SIGKILL');
    throw new Error(`the bare routes printed ${url}, not their address`);
  }
  // Whatever it prints later is read and dropped, so that a full pipe never stops it.
  lines.on('line', () => undefined);
  return {
    url,
    path: (name) => {
      const index = queries.findIndex((q) => q.name === name);
      if (index < 0) throw new Error(`no bare query named ${name}`);
      return `/bare/${index}`;
    },
    close: async () => {
      child.kill('SIGTERM');
      // A request stuck in a query must not keep the bench from dropping its database.
      const killer = setTimeout(() => child.kill('SIGKILL'), BARE_STOP_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Samples a process's VmRSS from /proc every `everyMs` until stopped; returns the largest, in MB. */
export function sampleRss(pid: number, everyMs = 250): { stop(): Promise<number> } {
  let maxKb = 0;
  const read = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    maxKb = Math.max(maxKb, kb);
  };
  const timer = setInterval(() => void read(), everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await read();
      return maxKb / 1024;
    },
  };
}
