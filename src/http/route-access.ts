import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Principal, type Role, roleAllows } from '../domain/access.js';
import { ForbiddenError, RateLimitedError, UnauthenticatedError } from '../domain/errors.js';
import { createFailureTally } from '../failure-tally.js';
import { sharedResponses } from './shared-responses.js';
import { timesSent } from './sole-header.js';
import type { CountKeyRequest } from '../services/rate-limits.js';

/** Who may call a route: anyone ('public'), or a key of at least this role (SPEC §8). */
export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route declares it; registerAccessControl refuses a route that does not. */
    access?: Access;
  }
}

export interface AccessControlOptions {
  /** Resolves the Authorization header to a principal, or throws UnauthenticatedError. */
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>;
  readonly rateLimitPerMinute: number;
  /** Counts a request of a key in a window shared by every instance (services/rate-limits.ts). */
  readonly countKeyRequest: CountKeyRequest;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** How often, at most, requests let through by a rate-limit counter that failed are said in the log. */
const LET_THROUGH_LOG_MS = 10_000;

export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

const declaredRoutes = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered behind the guard, with its access: what the auth matrix test walks. */
export function declaredRoutesOf(app: FastifyInstance): readonly DeclaredRoute[] {
  return declaredRoutes.get(app) ?? [];
}

/** The principal of an authenticated request; only routes that are not public have one. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (principal === undefined) throw new Error(`${request.routeOptions.url ?? request.url} is public: it has no principal`);
  return principal;
}

/**
 * The request's Authorization header, refused when it comes more than once: Node keeps the first
 * and drops the others, and a proxy in front may have checked another one (RFC 9110 §5.3: a field
 * that is not a list is sent once).
 */
function soleAuthorization(request: FastifyRequest): string | undefined {
  if (timesSent(request, 'authorization') > 1) throw new UnauthenticatedError('ambiguous');
  return request.headers.authorization;
}

/**
 * The one place access is enforced. Routes registered after this call must declare
 * `config.access`, or registration fails; keyed routes are documented with bearer security and
 * their 401/403/429 answers, open ones with an empty security list; every documented route lists
 * the answers any route can give (shared-responses.ts). Rate limits count per key, across instances;
 * open routes (and unknown ones, answered 404 without touching the database) are not limited.
 */
export async function registerAccessControl(app: FastifyInstance, options: AccessControlOptions): Promise<void> {
  const declared: DeclaredRoute[] = [];
  declaredRoutes.set(app, declared);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${route.method.toString()} ${route.url} declares no access (config.access)`);
    for (const method of [route.method].flat()) declared.push({ method, url: route.url, access });
    if (route.schema === undefined) return;
    // OpenAPI 3.1 lets a requirement of a scheme other than OAuth name the roles it needs: a client
    // reads there which key an operation takes (until 2026-12-06 only the README said so).
    route.schema.security = access === 'public' ? [] : [{ apiKey: [access] }];
    const shared = sharedResponses([route.method].flat(), route.url, access !== 'public');
    route.schema.response = { ...shared, ...toRecord(route.schema.response) };
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // Unknown routes have no access declared: they fall through to the 404 handler.
    if (access === undefined || access === 'public') return;
    principals.set(request, await options.authenticate(soleAuthorization(request)));
  });
  // The role is checked after the rate limit (a hook of each route's own, run after these), so that
  // refused requests count against their key as the others do: until 2026-12-05 a reader key
  // could call admin routes without limit. Still before the body is read.
  app.addHook('preParsing', async (request) => {
    const access = request.routeOptions.config.access;
    const principal = principals.get(request);
    if (access === undefined || access === 'public' || principal === undefined) return;
    if (!roleAllows(principal.role, access)) throw new ForbiddenError(principal.role, access);
  });
  // A request that changes something is let through with its key as it stands once its body has
  // arrived, not only as it stood when its headers did: a client may take up to the request timeout
  // to send a body, and a key revoked meanwhile had its write stored, a revoked admin key creating
  // a new admin key 20 s after the revocation was acknowledged (found by the probe of access under
  // load). The key is looked up again once the instance's memory of it is older than API_KEY_CACHE_MS,
  // and at once after a revocation through this instance: usually a look-up in memory.
  app.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public' || request.method === 'GET' || request.method === 'HEAD') return;
    await options.authenticate(soleAuthorization(request));
  });

  // Told with how many went through: a counter table locked for ten seconds had every request of
  // the instance log an error (src/failure-tally.ts).
  const letThrough = createFailureTally({
    intervalMs: LET_THROUGH_LOG_MS,
    tellFailures: (requestsLetThrough, err) => app.log.error({ err, requestsLetThrough }, 'rate-limit counter not updated; requests go through unlimited'),
  });
  app.addHook('onClose', async () => letThrough.close());
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute,
    timeWindow: 60_000,
    store: sharedStore(async (keyId, windowMs) =>
      options.countKeyRequest(keyId, windowMs).catch((error: unknown) => {
        // Let through below (skipOnError), but not unseen: a missing counter table would switch the limit off.
        letThrough.failed(error);
        throw error;
      }),
    ),
    // A counter the database cannot update lets the request through: the limit guards capacity,
    // and the request itself then meets the same database.
    skipOnError: true,
    keyGenerator: (request) => principals.get(request)?.keyId ?? '',
    allowList: (request) => !principals.has(request),
    errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, Math.ceil(context.ttl / 1000)),
  });
}

/** The plugin's store interface over the shared counters; timeWindow comes with every call, so one store serves every route. */
function sharedStore(count: AccessControlOptions['countKeyRequest']): FastifyRateLimitStoreCtor {
  return class SharedWindowStore implements FastifyRateLimitStore {
    incr(keyId: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      count(keyId, timeWindow).then(
        ({ hits, msLeft }) => callback(null, { current: hits, ttl: msLeft }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    // Counters are per key only: a route given a rateLimit config of its own would share them.
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

function toRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value)) : {};
}
