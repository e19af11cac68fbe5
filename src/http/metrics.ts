import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RecordOutcome } from '../services/record-events.js';

/** What the metrics read of a finished webhook attempt: the dispatcher's SendOutcome fits it. */
export interface ObservedAttempt {
  readonly errorKind: string | null;
  readonly durationMs: number;
}

/** What became of the delivery after the attempt: the dispatcher's AttemptResult fits it. */
export interface ObservedAttemptResult {
  readonly kind: 'succeeded' | 'retry' | 'failed';
}

/** The database pool's connections now: the store's PoolUse fits it. */
export interface ObservedPool {
  /** The most connections the pool opens (DATABASE_POOL_SIZE). */
  readonly size: number;
  readonly open: number;
  readonly idle: number;
  /** Queries waiting for a connection: the pool is exhausted while this is above 0. */
  readonly waiting: number;
}

export interface MetricsOptions {
  /** The instance's pool's use, sampled at each scrape; PGlite has no pool. */
  readonly poolUse?: (() => ObservedPool) | undefined;
}

export interface FinishedRequest {
  readonly method: string;
  /** The route pattern (`/v1/programs/:programId`), never the URL: a label per id would be unbounded. */
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
}

/**
 * One app's instruments and the registry GET /metrics exposes. Each app has a registry of its own
 * rather than prom-client's global one, so that several apps in one process (tests) never share
 * or re-register a series.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly observeRequest: (request: FinishedRequest) => void;
  /** recordEvents' observer: counts what an append stored. */
  readonly onRecorded: (outcome: RecordOutcome) => void;
  /** The dispatcher's onAttempt: counts each finished webhook attempt by outcome. */
  readonly onAttempt: (attempt: ObservedAttempt, result: ObservedAttemptResult) => void;
  /** The dispatcher's onLeasesExpired: counts the deliveries put back when their holder's lease ran out. */
  readonly onLeasesExpired: (deliveries: number) => void;
  /** The live feed's: how many feeds this instance holds open now. */
  readonly onFeedsOpen: (open: number) => void;
  /** Where the appends waiting to be combined, and the combiner's calls running, are read at each scrape: the app's recorder (one app per Metrics). */
  readonly observeAppends: (load: () => ObservedAppends) => void;
}

/** The append combiner's load now: the recorder's AppendLoad fits it. */
export interface ObservedAppends {
  readonly waiting: number;
  readonly running: number;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const feedsOpen = new Gauge({
    name: 'ml_live_feeds_open',
    help: 'Feeds (GET /v1/feed: following, and follow=false reads while they are answered) this instance holds open now; FEED_MAX_PER_INSTANCE bounds them',
    registers,
  });
  if (options.poolUse !== undefined) registerPoolGauges(registry, options.poolUse);
  // Read from the recorder the app makes after the metrics: until then, nothing waits.
  let appendLoad = (): ObservedAppends => ({ waiting: 0, running: 0 });
  const appendsWaiting: Gauge = new Gauge({
    name: 'ml_appends_waiting',
    help:
      'Appends of facts waiting for a call of the append combiner, to be stored together (those that go alone, with an Idempotency-Key, of reference events or retractions, never wait here): ' +
      'an append that finds 1,000 waiting, or waits 5 s, is answered 503',
    registers,
    collect: () => appendsWaiting.set(appendLoad().waiting),
  });
  const appendCalls: Gauge = new Gauge({
    name: 'ml_append_calls_running',
    help:
      'Calls of the append combiner running now, each of one or more waiting appends: up to APPEND_CONCURRENCY, more once the oldest waiting append has waited 25 ms, ' +
      'up to DATABASE_POOL_SIZE less two (1 on PGlite). Appends that go alone are not counted here, nor limited by this',
    registers,
    collect: () => appendCalls.set(appendLoad().running),
  });

  const requests = new Counter({
    name: 'ml_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status (route "404" when no route matched)',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const requestSeconds = new Histogram({
    name: 'ml_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const appended = new Counter({
    name: 'ml_events_appended_total',
    help: 'Events stored by this instance (a replayed idempotency key stores none)',
    registers,
  });
  const batches = new Counter({
    name: 'ml_append_batches_total',
    help: 'Successful POST /v1/events calls: result "stored" appended a batch, "replayed" returned a stored one for its idempotency key',
    labelNames: ['result'] as const,
    registers,
  });
  const attempts = new Counter({
    name: 'ml_webhook_attempts_total',
    help: 'Webhook attempts finished by this instance, by what became of the delivery (succeeded, retry, failed) and the error kind (none on success)',
    labelNames: ['outcome', 'error_kind'] as const,
    registers,
  });
  const leasesExpired = new Counter({
    name: 'ml_webhook_leases_expired_total',
    help: 'Webhook deliveries this instance put back in the queue because the instance holding them stopped or hung mid-attempt and its lease ran out',
    registers,
  });
  const attemptSeconds = new Histogram({
    name: 'ml_webhook_attempt_duration_seconds',
    help: 'Duration of webhook attempts, by what became of the delivery',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  // Present from the start, so that a rate over them is defined before the first append.
  for (const result of ['stored', 'replayed']) batches.inc({ result }, 0);

  return {
    registry,
    observeRequest: ({ method, route, status, seconds }) => {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      requestSeconds.observe(labels, seconds);
    },
    onRecorded: ({ stored, replayed }) => {
      appended.inc(stored);
      batches.inc({ result: replayed ? 'replayed' : 'stored' });
    },
    onAttempt: (attempt, result) => {
      attempts.inc({ outcome: result.kind, error_kind: attempt.errorKind ?? 'none' });
      attemptSeconds.observe({ outcome: result.kind }, attempt.durationMs / 1000);
    },
    onLeasesExpired: (deliveries) => leasesExpired.inc(deliveries),
    onFeedsOpen: (open) => feedsOpen.set(open),
    observeAppends: (load) => {
      appendLoad = load;
    },
  };
}

/**
 * The instance's pool (requests, live feeds, the webhook dispatcher; not the LISTEN connection nor
 * the start-up migrations' own), read at each scrape: a service answering 503 while the database
 * is up has its pool exhausted when `ml_db_pool_waiting` stays above 0 (DATABASE_POOL_SIZE, or the
 * database's own limits, too low for the load). Registered before the gauges read from the
 * database, and read without waiting, so that a scrape's own statement is not counted.
 */
function registerPoolGauges(registry: Registry, poolUse: () => ObservedPool): void {
  const registers = [registry];
  const connections: Gauge = new Gauge({
    name: 'ml_db_pool_connections',
    help: "The instance's pool's open connections by state: busy (checked out, or being opened), idle",
    labelNames: ['state'],
    registers,
    collect: () => {
      const use = poolUse();
      connections.set({ state: 'busy' }, use.open - use.idle);
      connections.set({ state: 'idle' }, use.idle);
    },
  });
  const most: Gauge = new Gauge({
    name: 'ml_db_pool_max_connections',
    help: "The most connections the instance's pool opens (DATABASE_POOL_SIZE)",
    registers,
    collect: () => most.set(poolUse().size),
  });
  const waiting: Gauge = new Gauge({
    name: 'ml_db_pool_waiting',
    help: "Requests for a connection of the instance's pool waiting for one (a transaction counts once)",
    registers,
    collect: () => waiting.set(poolUse().waiting),
  });
}
