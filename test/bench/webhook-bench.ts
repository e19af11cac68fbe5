/**
 * `npm run bench` (second part): webhook delivery of the whole service (tsx src/main.ts) to a local
 * receiver on 127.0.0.1.
 *
 * 1. Latency: events recorded one at a time; for each, the time from its recordedAt (the start of
 *    the append statement, so slightly before commit) to its arrival at the receiver. p50/p95/max.
 * 2. Throughput: 2,000 events in batches of 100 to one subscription (maxInFlight 16), deliveries/s
 *    until the last arrives, against a baseline from the same run: the same number of signed-size
 *    POSTs sent straight to the receiver by a plain node:http client with 16 at a time and a new
 *    connection each (as the dispatcher makes them).
 *
 * Needs PostgreSQL (DATABASE_URL or the local server); creates and drops a database of its own.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { findFreePort, spawnService, waitUntilReady } from '../support/service-process.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PORT = await findFreePort();
const ADMIN_KEY = `bench-admin-${randomUUID()}`;
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 200);
const THROUGHPUT_EVENTS = 2000;
const CONCURRENCY = 16;
const dbName = `ml_webhook_bench_${Date.now()}`;

async function api(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${PORT}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

const Recorded = z.object({ events: z.array(z.object({ id: z.string(), recordedAt: z.string() })) });
const seminar = (programId: string, i: number) => ({ type: 'seminar.held', occurredAt: '2026-06-10', data: { programId, title: `Session ${i}` } });

async function registerProgram(programId: string): Promise<void> {
  await api('/v1/events', { type: 'program.registered', occurredAt: '2025', data: { programId, name: programId } });
}

async function measureLatency(receiver: WebhookReceiver): Promise<number[]> {
  const programId = 'latency';
  await registerProgram(programId);
  await api('/v1/subscriptions', { url: receiver.url('/latency'), topics: ['seminar.held'], filter: { programId } });
  const recordedAt = new Map<string, number>();
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    const [event] = Recorded.parse(await api('/v1/events', seminar(programId, i))).events;
    if (event !== undefined) recordedAt.set(`msg_${event.id.replaceAll('-', '')}`, Date.parse(event.recordedAt));
    await sleep(10);
  }
  await receiver.waitFor((all) => all.filter((r) => r.path === '/latency').length >= LATENCY_EVENTS, 60_000);
  const Message = z.object({ id: z.string(), data: z.object({ id: z.string() }) });
  return receiver.received
    .filter((r) => r.path === '/latency')
    .map((r) => {
      const eventId = Message.parse(JSON.parse(r.body)).data.id;
      return r.receivedAt - (recordedAt.get(`msg_${eventId.replaceAll('-', '')}`) ?? r.receivedAt);
    })
    .sort((a, b) => a - b);
}

async function measureThroughput(receiver: WebhookReceiver): Promise<{ perSecond: number; body: string }> {
  const programId = 'throughput';
  await registerProgram(programId);
  await api('/v1/subscriptions', { url: receiver.url('/throughput'), topics: ['seminar.held'], filter: { programId }, maxInFlight: CONCURRENCY });
  const started = Date.now();
  for (let batch = 0; batch < THROUGHPUT_EVENTS / 100; batch++) {
    await api('/v1/events', { events: Array.from({ length: 100 }, (_, i) => seminar(programId, batch * 100 + i)) });
  }
  const recorded = Date.now();
  process.stderr.write(`recorded ${THROUGHPUT_EVENTS} events in ${recorded - started} ms\n`);
  await receiver.waitFor((all) => all.filter((r) => r.path === '/throughput').length >= THROUGHPUT_EVENTS, 300_000);
  const last = Math.max(...receiver.received.filter((r) => r.path === '/throughput').map((r) => r.receivedAt));
  const sample = receiver.received.find((r) => r.path === '/throughput');
  return { perSecond: THROUGHPUT_EVENTS / ((last - started) / 1000), body: sample?.body ?? '{}' };
}

/** The same number of POSTs of the same size, straight to the receiver, 16 at a time. */
async function measureBaseline(receiver: WebhookReceiver, body: string): Promise<number> {
  const url = new URL(receiver.url('/baseline'));
  let sent = 0;
  const started = Date.now();
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (sent < THROUGHPUT_EVENTS) {
        sent++;
        await post();
      }
    }),
  );
  return THROUGHPUT_EVENTS / ((Date.now() - started) / 1000);
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  await runAdmin(SERVER, `create database ${dbName}`);
  // The bench's own baseline POSTs are no webhooks, and checking each would slow what it times.
  const receiver = await startWebhookReceiver(undefined, { checkMessages: false });
  const service = spawnService(
    {
      DATABASE_URL: databaseUrl(SERVER, dbName),
      ADMIN_API_KEY: ADMIN_KEY,
      RATE_LIMIT_PER_MINUTE: '100000000',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
      WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    },
    PORT,
  );
  await waitUntilReady(service);
  try {
    const latencies = await measureLatency(receiver);
    const throughput = await measureThroughput(receiver);
    const baseline = await measureBaseline(receiver, throughput.body);
    console.log('\nwebhook delivery (LISTEN/NOTIFY wake-up, polling every 1 s as fallback)\n');
    console.log(`| first attempt after commit, ${LATENCY_EVENTS} events | p50 | p95 | max |`);
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| ms from recordedAt to arrival | ${percentile(latencies, 50)} | ${percentile(latencies, 95)} | ${latencies.at(-1)} |`);
    console.log(`\n| ${THROUGHPUT_EVENTS} deliveries, ${CONCURRENCY} at a time | per second | ratio |`);
    console.log('| --- | ---: | ---: |');
    console.log(`| baseline: plain node:http POSTs to the receiver | ${Math.round(baseline)} | 1.00 |`);
    console.log(`| service: record (batches of 100) → signed delivery | ${Math.round(throughput.perSecond)} | ${(throughput.perSecond / baseline).toFixed(2)} |`);
  } finally {
    service.child.kill('SIGTERM');
    await service.exited;
    await receiver.close();
    await runAdmin(SERVER, `drop database if exists ${dbName} with (force)`);
  }
}

await main();
