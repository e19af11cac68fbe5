/**
 * `npm run bench`: appends over HTTP (the whole service: validation, reference checks, the one-call
 * append) against a baseline measured in the same run: the same rows inserted straight into the
 * events table with `pg`, no HTTP, no validation. Reports events/s and the ratio, single events and
 * 100-event batches, at concurrency 1, 8 and 32.
 *
 * Needs a PostgreSQL server: DATABASE_URL, or the local one on 127.0.0.1:5432. It creates a
 * database of its own and drops it at the end. BENCH_SECONDS sets the length of each point.
 */
import { randomUUID } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import autocannon from 'autocannon';
import pg from 'pg';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { findFreePort, spawnService, waitUntilReady } from '../support/service-process.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = [1, 8, 32];
const BATCHES = [1, 100];
const PROGRAMS = 200;
const PORT = await findFreePort();
const ADMIN_KEY = `bench-admin-${randomUUID()}`;
const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };

interface Point {
  readonly batch: number;
  readonly concurrency: number;
  readonly baseline: number;
  readonly http: number;
  readonly httpErrors: number;
}

const dbName = `ml_bench_${Date.now()}`;
const url = databaseUrl(SERVER, dbName);

const seminar = (programId: string, i: number) => ({
  type: 'seminar.held',
  occurredAt: '2026-06-10',
  data: { programId, title: `Military AI data-centre plans, session ${i}`, location: 'Daejeon' },
  sources: [{ url: 'https://news.example/defense-ax/naver-cloud-seminar', publisher: 'Example News', publishedAt: '2026-06-10' }],
});

async function post(body: unknown): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${PORT}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${await r.text()}`);
}

/** Many programs, so that concurrent writers rarely queue on the same stream head. */
async function registerPrograms(): Promise<string[]> {
  const ids = Array.from({ length: PROGRAMS }, (_, i) => `bench-${i}`);
  await post({
    events: ids.map((programId) => ({ type: 'program.registered', occurredAt: '2025', data: { programId, name: programId } })),
  });
  return ids;
}

async function measureHttp(programs: string[], batch: number, connections: number): Promise<{ eps: number; errors: number }> {
  let n = 0;
  const nextBody = () => {
    const programId = programs[n++ % programs.length] ?? 'bench-0';
    const events = Array.from({ length: batch }, (_, i) => seminar(programId, i));
    return JSON.stringify(batch === 1 ? events[0] : { events });
  };
  const result = await autocannon({
    url: `http://127.0.0.1:${PORT}`,
    connections,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json', ...AUTH },
        setupRequest: (request) => ({ ...request, body: nextBody() }),
      },
    ],
  });
  const created = result['2xx'];
  return { eps: (created * batch) / SECONDS, errors: result.non2xx + result.errors };
}

/** The same rows, written with plain INSERTs by `connections` concurrent clients. */
async function measureBaseline(batch: number, connections: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  const occurred = { value: '2026-06-10', precision: 'day', start: '2026-06-10T00:00:00Z', end: '2026-06-11T00:00:00Z' };
  const columns = 13;
  const placeholders = Array.from(
    { length: batch },
    (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(',')})`,
  ).join(',');
  const text = `insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
    occurred_start, occurred_end, data, sources, metadata, program_id) values ${placeholders}`;
  let total = 0;
  const deadline = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      const stream = `program:baseline-${batch}-${connections}-${worker}-${randomUUID()}`;
      let version = 0;
      while (Date.now() < deadline) {
        const values: unknown[] = [];
        for (let i = 0; i < batch; i++) {
          const e = seminar('baseline', i);
          // The service's kind of id (record-events.ts): a random one would cost the baseline a page of its index each.
          values.push(timeOrderedUuid(), e.type, 1, stream, ++version, occurred.value, occurred.precision, occurred.start, occurred.end);
          values.push(JSON.stringify(e.data), JSON.stringify(e.sources), JSON.stringify({ actor: 'bench', requestId: randomUUID() }), 'baseline');
        }
        await pool.query(text, values);
        total += batch;
      }
    }),
  );
  await pool.end();
  return total / SECONDS;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  await runAdmin(SERVER, `create database ${dbName}`);
  const service = spawnService(
    { DATABASE_URL: url, DATABASE_POOL_SIZE: '16', ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_PER_MINUTE: '100000000' },
    PORT,
  );
  await waitUntilReady(service);
  const points: Point[] = [];
  try {
    const programs = await registerPrograms();
    await measureHttp(programs, 1, 4); // warm-up: JIT, pool, plan caches
    for (const batch of BATCHES) {
      for (const concurrency of CONCURRENCY) {
        const baseline = await measureBaseline(batch, concurrency);
        const http = await measureHttp(programs, batch, concurrency);
        points.push({ batch, concurrency, baseline, http: http.eps, httpErrors: http.errors });
        process.stderr.write(`batch ${batch} c${concurrency}: baseline ${fmt(baseline)}/s, http ${fmt(http.eps)}/s\n`);
      }
    }
  } finally {
    service.child.kill('SIGTERM');
    await service.exited;
    await runAdmin(SERVER, `drop database if exists ${dbName} with (force)`);
  }
  console.log(`\nappend throughput, ${SECONDS} s per point (events/s; ratio = HTTP ÷ baseline, same run)\n`);
  console.log('| events per request | concurrency | baseline: direct pg INSERT | HTTP POST /v1/events | ratio | non-2xx |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of points) {
    console.log(`| ${p.batch} | ${p.concurrency} | ${fmt(p.baseline)} | ${fmt(p.http)} | ${(p.http / p.baseline).toFixed(2)} | ${p.httpErrors} |`);
  }
}

await main();
