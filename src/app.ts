import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import './http/zod-messages.js';
import {
  ANSWER_HEADERS,
  answerClientError,
  answerFrameworkError,
  answerUnmetExpectation,
  registerErrorHandling,
} from './http/error-handler.js';
import { registerBodyEncodingChecks } from './http/request-body-encoding.js';
import { responseSerializerCompiler } from './http/response-serializer.js';
import { requestIdOf } from './http/request-id.js';
import { refuseUndeclaredQueries, requestValidatorCompiler } from './http/request-validator.js';
import { registerAccessControl } from './http/route-access.js';
import { registerResponseNegotiation } from './http/response-negotiation.js';
import { apiKeyRoutes } from './http/routes/api-keys.js';
import { boardRoutes } from './http/routes/board.js';
import { subscriptionRoutes } from './http/routes/subscriptions.js';
import { parseAllowedCidrs } from './domain/webhook-address-policy.js';
import { createKeyAuthenticator, createKeyRegistry, createKeyRevocations } from './services/api-keys.js';
import { createDeliveries } from './services/deliveries.js';
import { createNotificationFeed } from './services/notification-feed.js';
import { createEventReader } from './services/read-events.js';
import { createEventRecorder } from './services/record-events.js';
import { createStatusViews } from './services/status-views.js';
import { createSubscriptionRegistry, type SubscriptionSettings } from './services/subscriptions.js';
import { createKeyRequestCounter } from './services/rate-limits.js';
import { resolveWithDns } from './services/webhook-target-check.js';
import { OPENAPI_OPTIONS } from './http/openapi-options.js';
import { eventTypeRoutes } from './http/routes/event-types.js';
import { eventRoutes } from './http/routes/events.js';
import { feedRoutes } from './http/routes/feed.js';
import { operationsRoutes, type Readiness } from './http/routes/operations.js';
import { openApiRoutes } from './http/routes/openapi.js';
import { problemTypeRoutes } from './http/routes/problem-types.js';
import { streamRoutes } from './http/routes/streams.js';
import { cellEvidenceRoutes } from './http/routes/cell-evidence.js';
import { consortiumRoutes } from './http/routes/consortiums.js';
import { deliveryRoutes } from './http/routes/deliveries.js';
import { programRoutes } from './http/routes/programs.js';
import { timelineRoutes } from './http/routes/timeline.js';
import type { Db } from './store/database.js';
import { CONNECT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from './store/open-database.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { registerOperationalGauges } from './http/operational-gauges.js';
import { registerRequestMetrics } from './http/request-metrics.js';
import { handleShutdown } from './http/shutdown.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { createOperationalStatsSampler } from './services/operational-stats.js';

export interface AppLimits {
  /** Bytes accepted in a POST /v1/events body. */
  readonly appendBodyLimit: number;
  /** Bytes accepted in any other body. */
  readonly bodyLimit: number;
  readonly maxPageSize: number;
  /**
   * Append calls an instance runs at once before appends of facts wait to be stored together, one
   * call each time one ends (APPEND_CONCURRENCY; src/store/append-combiner.ts).
   */
  readonly appendConcurrency: number;
  /** Append calls at once once waiting appends have waited appendOverflowAfterMs (a call stalls): fewer than the pool's connections. */
  readonly appendMaxCalls: number;
  /**
   * Milliseconds the oldest waiting append waits for a running call before another starts (up to
   * appendMaxCalls): short, so that a call stalled on a lock does not hold the instance.
   */
  readonly appendOverflowAfterMs: number;
  /** Requests a minute per API key (SPEC §7 RATE_LIMIT_PER_MINUTE). */
  readonly rateLimitPerMinute: number;
  /**
   * How long an instance trusts an API key it found active before it looks it up again: the time a
   * revocation made on another instance sharing the database takes to reach this one (0: every request).
   */
  readonly apiKeyCacheMs: number;
  /** How long an idle GET /v1/feed waits before it looks for new notifications again. */
  readonly feedPollMs: number;
  /** Live feeds (GET /v1/feed) one API key may hold open on one instance. */
  readonly maxFeedsPerKey: number;
  /** Live feeds of all keys together one instance may hold open: each polls the database. */
  readonly maxFeedsPerInstance: number;
  /**
   * Milliseconds a client has to send a whole request, headers and body; a slower one gets 408 and
   * its connection is closed. Nothing else bounds a client that opens a socket and trickles bytes.
   * It ends when the request is received, so it never cuts off a response (the feed streams for hours).
   */
  readonly requestTimeoutMs: number;
  /** How long a keep-alive connection may sit idle between requests before the server closes it. */
  readonly keepAliveTimeoutMs: number;
  /**
   * Milliseconds a connection may go without a byte read or written (a client that stops reading its
   * response); it is then destroyed. Must exceed the feed's 15 s keep-alive and the slowest handler.
   */
  readonly socketIdleTimeoutMs: number;
  /**
   * The database's statement timeout (DATABASE_STATEMENT_TIMEOUT_MS, set on the connections, not
   * here): how long an append whose connection was lost may still run on the server, which a
   * commit-outcome-unknown answer tells its client to wait before it checks.
   */
  readonly statementTimeoutMs: number;
  /**
   * SHUTDOWN_GRACE_MS: once the app is asked to close, how long a request may take to reach its
   * handler (its body still arriving, say); it is then answered 503 shutting-down, and connections
   * with no handler under way are closed (src/http/shutdown.ts).
   */
  readonly shutdownGraceMs: number;
}

/** A combined append call holds at most this many events: a failure there runs each append again alone. */
const COMBINED_APPEND_MAX_EVENTS = 100;

export const DEFAULT_LIMITS: AppLimits = {
  appendBodyLimit: 5 * 1024 * 1024,
  bodyLimit: 64 * 1024,
  maxPageSize: 1000,
  appendConcurrency: 2,
  appendMaxCalls: 8,
  appendOverflowAfterMs: 25,
  rateLimitPerMinute: 1200,
  apiKeyCacheMs: 2000,
  feedPollMs: 500,
  maxFeedsPerKey: 10,
  maxFeedsPerInstance: 100,
  requestTimeoutMs: 30_000,
  // Longer than the idle timeout of the load balancers in front (60 s on AWS ALB): the balancer, not
  // the service, closes idle connections, so it never reuses one the service has just closed (a 502).
  keepAliveTimeoutMs: 72_000,
  socketIdleTimeoutMs: 120_000,
  statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
  shutdownGraceMs: 10_000,
};

/** What the subscription registry needs to vet webhook targets (research/webhooks.md §2.6). */
export type WebhookSettings = SubscriptionSettings;

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  rules: { addresses: parseAllowedCidrs(''), allowHttp: false },
  resolve: resolveWithDns,
  defaultMaxInFlight: 4,
};

export interface AppDependencies {
  readonly db: Db;
  readonly limits?: AppLimits;
  readonly logger?: FastifyServerOptions['logger'];
  readonly checkReadiness?: () => Promise<Readiness>;
  readonly webhooks?: WebhookSettings;
  /** ADMIN_API_KEY: accepted as an admin key once seeded (main.ts seeds it). */
  readonly adminApiKey?: string;
  /** The clock views judge "overdue" by; tests fix it. */
  readonly now?: () => Date;
  /** Served at GET /metrics; main.ts passes it so the webhook dispatcher reports to it too. */
  readonly metrics?: Metrics;
}

/** How a path matches a route: also how a path is found to have routes of other methods (405). */
const ROUTER_OPTIONS = { ignoreTrailingSlash: true } as const;

/** Builds the HTTP application; it does not listen, so tests drive it with inject(). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: limits.bodyLimit,
    // genReqId reads x-request-id itself, keeping a client's id only if it is short and printable.
    requestIdHeader: false,
    genReqId: requestIdOf,
    routerOptions: ROUTER_OPTIONS,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.socketIdleTimeoutMs,
    // Our own 503 (problem+json, below) replaces Fastify's while closing.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      // Node swaps the two when the headers timeout (60 s by default) is the longer one: the request
      // timeout would then bound only the headers, and a body could trickle in for a minute.
      headersTimeout: limits.requestTimeoutMs,
      // Node looks for overdue requests only this often (30 s by default), which would double a 30 s timeout.
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits.requestTimeoutMs),
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(requestValidatorCompiler);
  refuseUndeclaredQueries(app);
  app.setSerializerCompiler(responseSerializerCompiler);
  app.server.on('checkExpectation', answerUnmetExpectation);
  // Only JSON is accepted: any other body is answered 415 rather than half-parsed as text.
  app.removeContentTypeParser('text/plain');
  // From the start of a request, so that a reply taken over (the live feed) carries them too. Every
  // answer is what its Content-Type says, never sniffed as something else: until 2026-12-06 only the
  // board's said so (found by the probe of every route).
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id).headers(ANSWER_HEADERS);
  });
  handleShutdown(app, limits.shutdownGraceMs);
  const metrics = deps.metrics ?? createMetrics();
  // Before the routes and the not-found handler, so that every answer is counted.
  registerRequestMetrics(app, metrics.observeRequest);
  registerErrorHandling(app, ROUTER_OPTIONS);

  // Swagger must be registered before the routes it documents (research/stack.md G6c).
  await app.register(swagger, OPENAPI_OPTIONS);
  // The documentation UI registers its own routes, which cannot declare access: it comes before the guard.
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const authenticator = createKeyAuthenticator(deps.db, deps.adminApiKey, limits.apiKeyCacheMs);
  // A key revoked here is refused here at once, and its open feeds end.
  const revocations = createKeyRevocations();
  revocations.listen((keyId) => authenticator.forget(keyId));
  await registerAccessControl(app, {
    authenticate: (authorization) => authenticator.authenticate(authorization),
    rateLimitPerMinute: limits.rateLimitPerMinute,
    countKeyRequest: createKeyRequestCounter(deps.db, limits.rateLimitPerMinute),
  });
  // After the role check (a preParsing hook of registerAccessControl): a key that may not send the
  // request is told so (403), whatever its body's charset or coding.
  registerBodyEncodingChecks(app);
  registerResponseNegotiation(app);
  await app.register(openApiRoutes);

  const checkReadiness = deps.checkReadiness ?? (async () => ({ database: true, migrations: true }));
  await app.register(operationsRoutes, { checkReadiness });
  await app.register(boardRoutes, { maxPageSize: limits.maxPageSize });
  registerOperationalGauges(metrics.registry, createOperationalStatsSampler(deps.db, app.log.child({ component: 'metrics' })));
  await app.register(metricsRoutes, { registry: metrics.registry });
  await app.register(problemTypeRoutes);
  await app.register(eventTypeRoutes);
  // Routes get services bound to the database, never the handle itself.
  const reader = createEventReader(deps.db);
  const recorder = createEventRecorder(deps.db, {
    concurrency: limits.appendConcurrency,
    maxCalls: Math.max(limits.appendConcurrency, limits.appendMaxCalls),
    overflowAfterMs: limits.appendOverflowAfterMs,
    // As long as a request waits for a connection of the pool before it is answered 503.
    maxWaitMs: CONNECT_TIMEOUT_MS,
    maxWaiting: 1_000,
    maxEvents: COMBINED_APPEND_MAX_EVENTS,
    statementTimeoutMs: limits.statementTimeoutMs,
  });
  metrics.observeAppends(() => recorder.load());
  await app.register(eventRoutes, {
    reader,
    recorder,
    appendBodyLimit: limits.appendBodyLimit,
    maxPageSize: limits.maxPageSize,
    onRecorded: metrics.onRecorded,
  });
  await app.register(streamRoutes, { reader, maxPageSize: limits.maxPageSize });
  const viewOptions = { views: createStatusViews(deps.db), now: deps.now ?? (() => new Date()), maxPageSize: limits.maxPageSize };
  await app.register(programRoutes, viewOptions);
  await app.register(consortiumRoutes, viewOptions);
  await app.register(timelineRoutes, viewOptions);
  await app.register(cellEvidenceRoutes, viewOptions);
  const keyRegistry = createKeyRegistry(deps.db);
  await app.register(feedRoutes, {
    notifications: createNotificationFeed(deps.db),
    keys: keyRegistry,
    revocations,
    keyRecheckMs: limits.apiKeyCacheMs,
    pollMs: limits.feedPollMs,
    maxFeedsPerKey: limits.maxFeedsPerKey,
    maxFeedsPerInstance: limits.maxFeedsPerInstance,
    maxPageSize: limits.maxPageSize,
    onFeedsOpen: metrics.onFeedsOpen,
  });
  await app.register(apiKeyRoutes, { keys: keyRegistry, maxPageSize: limits.maxPageSize, onRevoked: (keyId) => revocations.revoked(keyId) });
  await app.register(subscriptionRoutes, {
    subscriptions: createSubscriptionRegistry(deps.db, deps.webhooks ?? DEFAULT_WEBHOOK_SETTINGS),
    maxPageSize: limits.maxPageSize,
  });
  await app.register(deliveryRoutes, { deliveries: createDeliveries(deps.db), maxPageSize: limits.maxPageSize });
  return app;
}

/** A tenth of the request timeout, so a slow request is cut off at most 10% late; a check costs a walk over the open connections. */
const connectionsCheckingIntervalMs = (requestTimeoutMs: number): number => Math.min(5_000, Math.max(25, Math.ceil(requestTimeoutMs / 10)));
