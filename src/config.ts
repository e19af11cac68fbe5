import { isIP } from 'node:net';
import { parse as parseConnectionString } from 'pg-connection-string';
import { z } from 'zod';
import { parseAllowedCidrs, type AddressPolicy } from './domain/webhook-address-policy.js';
import { LONGEST_DELIVERY_WAIT_SECONDS, parseRetrySchedule, STANDARD_RETRY_SCHEDULE } from './webhooks/retry-schedule.js';
import { DEFAULT_STATEMENT_TIMEOUT_MS, RESPONSE_MARGIN_MS, type DatabaseTarget } from './store/open-database.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * A number as decimal digits and nothing else: z.coerce.number() read `0x10` as 16, `1e3` as 1000
 * and ` 60 ` as 60, where PORT refused them (found by a probe of the configuration).
 */
const decimal = () => z.string().regex(/^\d{1,16}$/, 'must be a whole number in decimal digits').transform(Number);

const positiveInt = (fallback: number) => decimal().pipe(z.number().int().positive()).default(fallback);

/**
 * The longest a Node timer waits: a longer delay is taken as 1 ms (with a warning), so a timeout
 * meant to be long would fire at once.
 */
const LONGEST_TIMER_MS = 2_147_483_647;
const milliseconds = (fallback: number, longest = LONGEST_TIMER_MS) =>
  decimal()
    .pipe(z.number().int().positive().max(longest, `must be at most ${longest} ms (about 24.8 days), the longest a timer can wait`))
    .default(fallback);

/** A whole number of `unit`s, 1 to `longest`: `why` says what bounds it. */
const positiveUpTo = (fallback: number, longest: number, unit: string, why: string) =>
  decimal()
    .pipe(z.number().int().positive().max(longest, `must be at most ${longest} ${unit} (${why})`))
    .default(fallback);

/** How long after SHUTDOWN_GRACE_MS a shutdown that still hangs is ended by exiting (src/main.ts). */
export const SHUTDOWN_WATCHDOG_MARGIN_MS = 5000;

/** A host name (RFC 1123), with underscores too (container names have them) and a trailing dot (a fully qualified name). */
const HOST_NAME = /^(?=.{1,254}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
/**
 * A whole number from 0 to `max` where 0 means something (off, V8's own choice): not coerced, since
 * an empty value would read as 0 and switch the thing off unnoticed.
 */
const wholeNumberUpTo = (max: number, fallback: number, message: string) =>
  z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), message)
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().max(max, message));

/** Whether the driver reads the URL (its own parser: a socket folder as ?host=, no host for PGHOST's) with a port it can use. */
function isConnectableUrl(text: string): boolean {
  try {
    return parseConnectionString(text).port !== '0';
  } catch {
    return false;
  }
}

/**
 * Where DATABASE_URL points, for a message: user, host, port and database as the driver reads them
 * (defaults included), never the password.
 */
export function describeDatabaseUrl(url: string): string {
  const { user, host, port, database } = parseConnectionString(url);
  // A password with an unescaped / ? # or @ shifts the URL's parts, and a part may then hold a piece
  // of it: so when an @ comes after where the URL's authority (user:password@host:port) ends.
  const rest = url.slice(url.indexOf('://') + 3);
  const authorityEnd = rest.search(/[/?#]/);
  if (authorityEnd >= 0 && rest.slice(authorityEnd).includes('@')) return 'a URL whose parts are ambiguous: percent-encode / ? # @ in its password';
  // The parser gives '' for a part the URL leaves out, and the driver fills it in from the environment.
  return `database ${database || '(the user name)'} on ${host || '(PGHOST)'} port ${port || 5432} as ${user || '(PGUSER)'}`;
}

/** Every environment variable the service reads (SPEC §7), with its default. */
const Environment = z.object({
  // Digits only: coerced, an empty or blank value would read as 0 (any free port), and 0x1F90 as 8080.
  PORT: wholeNumberUpTo(65535, 3000, 'must be a port number, 0 to 65535 (0: any free port)'),
  HOST: z
    .string()
    .refine((host) => isIP(host) !== 0 || HOST_NAME.test(host), 'must be an IP address or a host name')
    .default('127.0.0.1'),
  // Empty counts as unset (`DATABASE_URL=` in a compose file or shell): the embedded database.
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    // What the driver would fail on at the first connection, with a stack and no name: a URL its
    // parser refuses (a port over 65535); and port 0, where nothing listens.
    .refine(isConnectableUrl, 'must be a postgres:// URL the driver reads (pg-connection-string), with a port from 1 to 65535')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_POOL_SIZE: positiveInt(10),
  // Longer than any request should take; shorter than a client's patience, so it gets a 503, not silence.
  // The client waits a margin more for an answer (open-database.ts): both within the longest a timer waits.
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds(DEFAULT_STATEMENT_TIMEOUT_MS, LONGEST_TIMER_MS - RESPONSE_MARGIN_MS),
  // Connections `npm run projections:rebuild` folds cells on, side by side (PostgreSQL server only).
  REBUILD_WORKERS: decimal().pipe(z.number().int().min(1).max(16)).default(2),
  // Append calls at once per instance; appends beyond wait and go together (src/store/append-combiner.ts).
  APPEND_CONCURRENCY: decimal().pipe(z.number().int().min(1).max(64)).default(2),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  BODY_LIMIT_BYTES: positiveInt(5 * 1024 * 1024),
  MAX_PAGE_SIZE: positiveInt(1000),
  ADMIN_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]{16,200}$/, 'must be 16 to 200 printable characters without spaces')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  RATE_LIMIT_PER_MINUTE: positiveInt(1200),
  API_KEY_CACHE_MS: wholeNumberUpTo(60_000, 2000, 'must be a whole number of milliseconds, 0 to 60000'),
  WEBHOOK_ALLOWED_CIDRS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseAllowedCidrs(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }),
  WEBHOOK_ALLOW_HTTP: z.enum(['true', 'false']).default('false'),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return [...STANDARD_RETRY_SCHEDULE];
      try {
        return parseRetrySchedule(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    }),
  WEBHOOK_CONCURRENCY: positiveInt(16),
  WEBHOOK_MAX_IN_FLIGHT: decimal().pipe(z.number().int().min(1).max(16)).default(4),
  WEBHOOK_CONNECT_TIMEOUT_MS: milliseconds(5000),
  WEBHOOK_TIMEOUT_MS: milliseconds(15000),
  // Its reaper runs every quarter of it, on a timer: a day keeps that within a timer's reach.
  WEBHOOK_LEASE_SECONDS: positiveUpTo(60, 86_400, 'seconds', 'a day'),
  WEBHOOK_POLL_MS: milliseconds(1000),
  // Waits added to the database's clock: at most a year (retry-schedule.ts says why).
  WEBHOOK_DISABLE_AFTER_HOURS: positiveUpTo(120, LONGEST_DELIVERY_WAIT_SECONDS / 3600, 'hours', 'a year'),
  WEBHOOK_MAX_RETRY_AFTER_SECONDS: positiveUpTo(3600, LONGEST_DELIVERY_WAIT_SECONDS, 'seconds', 'a year'),
  // Its watchdog waits the grace and a margin: both within the longest a timer waits.
  SHUTDOWN_GRACE_MS: milliseconds(10000, LONGEST_TIMER_MS - SHUTDOWN_WATCHDOG_MARGIN_MS),
  // 0 leaves V8's own choice (src/heap-policy.ts).
  HEAP_GROWING_PERCENT: wholeNumberUpTo(1000, 50, 'must be a whole number of percent, 0 to 1000 (0: leave V8 its own choice)'),
  FEED_MAX_PER_KEY: positiveInt(10),
  FEED_MAX_PER_INSTANCE: positiveInt(100),
  REQUEST_TIMEOUT_MS: milliseconds(30_000),
  KEEP_ALIVE_TIMEOUT_MS: milliseconds(72_000),
  // Below the feed's 15 s keep-alive comments, every idle feed would be cut off between two of them.
  SOCKET_IDLE_TIMEOUT_MS: decimal()
    .pipe(
      z
        .number()
        .int()
        .min(20_000, 'must be at least 20000: the feed writes a keep-alive every 15 s')
        .max(LONGEST_TIMER_MS, `must be at most ${LONGEST_TIMER_MS} ms, the longest a timer can wait`),
    )
    .default(120_000),
});

/** The names of every variable read, for the README's table and its test. */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(Environment.shape);

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseTarget;
  /** For the service's own queries (PostgreSQL server only); tools such as the rebuild run without it. */
  readonly statementTimeoutMs: number;
  /** REBUILD_WORKERS on a PostgreSQL server, at most the pool's size; PGlite serves one connection, so 1 there. */
  readonly rebuildWorkers: number;
  /** APPEND_CONCURRENCY on a PostgreSQL server, at most the pool's size less two; PGlite serves one connection, so 1 there. */
  readonly appendConcurrency: number;
  /** Append calls at once when some stall: the pool's size less two, for reads (at least 1); 1 on PGlite. */
  readonly appendMaxCalls: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly appendBodyLimit: number;
  readonly maxPageSize: number;
  readonly adminApiKey: string | undefined;
  readonly rateLimitPerMinute: number;
  /** API_KEY_CACHE_MS: how long an active key is trusted without a look-up (AppLimits.apiKeyCacheMs). */
  readonly apiKeyCacheMs: number;
  readonly webhooks: WebhookConfig;
  readonly shutdownGraceMs: number;
  /** HEAP_GROWING_PERCENT: see src/heap-policy.ts; 0 leaves V8 alone. */
  readonly heapGrowingPercent: number;
  readonly maxFeedsPerKey: number;
  readonly maxFeedsPerInstance: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly socketIdleTimeoutMs: number;
}

export interface WebhookConfig {
  readonly allowedAddresses: AddressPolicy;
  readonly allowHttp: boolean;
  readonly retrySchedule: readonly number[];
  readonly concurrency: number;
  readonly maxInFlight: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly leaseSeconds: number;
  readonly pollMs: number;
  readonly disableAfterSeconds: number;
  readonly maxRetryAfterSeconds: number;
}

export class ConfigError extends Error {}

/** Reads and checks the environment; a bad value is reported by its variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const database: DatabaseTarget =
    e.DATABASE_URL === undefined
      ? { kind: 'pglite', dataDir: e.DATA_DIR }
      : { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE };
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    database,
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    // Each worker holds a connection of the pool.
    rebuildWorkers: database.kind === 'postgres' ? Math.min(e.REBUILD_WORKERS, e.DATABASE_POOL_SIZE) : 1,
    // Combined calls leave two connections of the pool to reads (src/store/append-combiner.ts).
    appendConcurrency: database.kind === 'postgres' ? Math.min(e.APPEND_CONCURRENCY, Math.max(1, e.DATABASE_POOL_SIZE - 2)) : 1,
    appendMaxCalls: database.kind === 'postgres' ? Math.max(1, e.DATABASE_POOL_SIZE - 2) : 1,
    logLevel: e.LOG_LEVEL,
    appendBodyLimit: e.BODY_LIMIT_BYTES,
    maxPageSize: e.MAX_PAGE_SIZE,
    adminApiKey: e.ADMIN_API_KEY,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    apiKeyCacheMs: e.API_KEY_CACHE_MS,
    webhooks: {
      allowedAddresses: e.WEBHOOK_ALLOWED_CIDRS,
      allowHttp: e.WEBHOOK_ALLOW_HTTP === 'true',
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      concurrency: e.WEBHOOK_CONCURRENCY,
      maxInFlight: e.WEBHOOK_MAX_IN_FLIGHT,
      connectTimeoutMs: e.WEBHOOK_CONNECT_TIMEOUT_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      // A lease must outlast the longest attempt, or a slow but live attempt would be repeated.
      leaseSeconds: Math.max(e.WEBHOOK_LEASE_SECONDS, Math.ceil(e.WEBHOOK_TIMEOUT_MS / 1000) + 15),
      pollMs: e.WEBHOOK_POLL_MS,
      disableAfterSeconds: e.WEBHOOK_DISABLE_AFTER_HOURS * 3600,
      maxRetryAfterSeconds: e.WEBHOOK_MAX_RETRY_AFTER_SECONDS,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    maxFeedsPerKey: e.FEED_MAX_PER_KEY,
    maxFeedsPerInstance: e.FEED_MAX_PER_INSTANCE,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    socketIdleTimeoutMs: e.SOCKET_IDLE_TIMEOUT_MS,
  });
}
