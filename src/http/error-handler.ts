import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDomainError, type KnownDomainError } from '../domain/errors.js';
import { quoted } from '../domain/quoted.js';
import { toFieldErrors, type IssueLike } from './field-errors.js';
import { problem, PROBLEM_MEDIA_TYPE, type FieldError, type ProblemDetails } from './problem.js';
import { noteRawAnswer } from './raw-answers.js';
import { RefusedParametersError } from './request-validator.js';
import { trackRouteMethods } from './route-methods.js';
import { RepeatedHeadersError } from './sole-header.js';

const ZodIssue: z.ZodType<IssueLike> = z.lazy(() =>
  z.object({
    path: z.array(z.union([z.string(), z.number()])),
    message: z.string(),
    code: z.string().optional(),
    errors: z.array(z.array(ZodIssue)).optional(),
    keys: z.array(z.string()).optional(),
  }),
);
const UnionBranches = z.object({ errors: z.array(z.array(ZodIssue)).optional() });

/**
 * Raised for requests that arrive while the instance is closing (Fastify's own 503 is not
 * problem+json), and for those that had not reached their handler when its grace ended.
 */
export class ShuttingDownError extends Error {
  constructor(message = 'this instance is shutting down: send the request again (to another instance, or in a moment)') {
    super(message);
  }
}

// A lost connection is replaced on the next request; a terminated or restarting server is usually
// back within seconds. Clients that honour this spread their retries instead of hammering.
const DATABASE_RETRY_AFTER_SECONDS = 1;
/** A full disk waits for its operator: a client retrying every second would only add to the load. */
const DATABASE_FULL_RETRY_AFTER_SECONDS = 60;

/** A request body whose charset is not UTF-8: JSON is UTF-8 (RFC 8259 §8.1), and the parser reads nothing else. */
export class UnsupportedCharsetError extends Error {
  constructor(readonly charset: string) {
    super(`the request body must be UTF-8 JSON, not charset=${charset}`);
  }
}

/** A request body in a content coding (gzip, br): the service reads JSON as it is sent, and says so (RFC 9110 §15.5.16). */
export class UnsupportedContentCodingError extends Error {
  constructor(readonly contentEncoding: string) {
    super(`the request body must be sent as it is, not in a content coding (Content-Encoding: ${contentEncoding}); leave the header out`);
  }
}

/** A request body that is not valid UTF-8: refused, rather than stored with its bad bytes replaced. */
export class BodyNotUtf8Error extends Error {
  constructor() {
    super('the request body is not valid UTF-8: JSON text is UTF-8 (RFC 8259 §8.1); encode the text as UTF-8');
  }
}

/** A request body that is not JSON, saying where it broke (request-body-encoding.ts). */
export class BodyNotJsonError extends Error {}

/** A read whose Accept header names none of the media types its route answers in (response-negotiation.ts). */
export class NotAcceptableError extends Error {
  constructor(
    readonly accept: string,
    readonly offered: readonly string[],
  ) {
    super(`this resource answers in ${offered.join(' or ')}, none of which the Accept header (${accept}) allows; ask for one of them, or send no Accept header`);
  }
}

/** What a request said of itself that a problem names: its route's body limit, its Content-Type, its URL. */
interface RequestTold {
  readonly bodyLimit?: number | undefined;
  readonly contentType?: string | undefined;
  readonly url?: string | undefined;
}

/** The one place where errors become HTTP responses: RFC 9457 problem+json, always. */
function toProblem(error: unknown, told: RequestTold = {}): ProblemDetails {
  if (isDomainError(error)) return domainProblem(error);
  if (error instanceof ShuttingDownError) return problem('shutting-down', error.message);
  if (error instanceof UnsupportedCharsetError) return problem('unsupported-media-type', error.message, { charset: error.charset });
  if (error instanceof UnsupportedContentCodingError) return problem('unsupported-media-type', error.message, { contentEncoding: error.contentEncoding });
  if (error instanceof BodyNotUtf8Error || error instanceof BodyNotJsonError) return problem('malformed-request', error.message);
  if (error instanceof NotAcceptableError) return problem('not-acceptable', error.message, { available: [...error.offered] });
  if (error instanceof RefusedParametersError) return validationProblem(PARTS['querystring'] ?? '', error.errors);
  if (error instanceof RepeatedHeadersError) return validationProblem(PARTS['headers'] ?? '', error.errors);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      // The provider writes a path as '/' + its keys joined by '/': the root is '/'.
      path: v.instancePath === '/' ? [] : v.instancePath.split('/').slice(1),
      message: v.message ?? 'invalid',
      code: v.keyword,
      errors: UnionBranches.parse(v.params).errors,
    }));
    const errors = toFieldErrors(issues, error.validationContext);
    return validationProblem(PARTS[error.validationContext ?? 'request'] ?? 'the request is', errors);
  }
  if (isFastifyClientError(error)) return fastifyProblem(error, told);
  return problem('internal-error', 'the error has been logged');
}

/** The part of a request a schema checked, as a message names it ("the headers is", until 2026-12-06). */
const PARTS: Readonly<Record<string, string>> = { body: 'the body is', querystring: 'the query string is', params: 'the path is', headers: 'the headers are' };

/** The most field errors a problem lists, and the most its detail says. */
const MOST_FIELD_ERRORS = 50;
const MOST_SAID = 10;

/**
 * A request refused for its fields: each named, up to MOST_FIELD_ERRORS, then how many more, so that
 * an answer does not grow with a batch's faults (the review of the day's refusals: 1,000 unknown
 * types, each with the list of known ones, came back in 1.6 MB).
 */
function validationProblem(part: string, errors: readonly FieldError[]): ProblemDetails {
  const more = (most: number) => (errors.length > most ? `; and ${errors.length - most} more` : '');
  const listed = errors.slice(0, MOST_FIELD_ERRORS);
  return problem('validation-failed', `${part} not valid: ${errors.slice(0, MOST_SAID).map(describeFieldError).join('; ')}${more(MOST_SAID)}`, {
    errors: errors.length > MOST_FIELD_ERRORS ? [...listed, { detail: `and ${errors.length - MOST_FIELD_ERRORS} more` }] : listed,
  });
}

const describeFieldError = (e: { pointer?: string | undefined; parameter?: string | undefined; detail: string }) =>
  `${e.pointer ?? e.parameter ?? ''}: ${e.detail}`;

function domainProblem(error: KnownDomainError): ProblemDetails {
  const at = (index: number) => ({ pointer: `/events/${index}` });
  switch (error.code) {
    case 'version_conflict': {
      const e = error;
      return problem('version-conflict', e.message, {
        stream: e.stream,
        expectedVersion: e.expectedVersion,
        currentVersion: e.currentVersion,
        ...at(e.eventIndex),
      });
    }
    case 'unknown_reference': {
      const e = error;
      return problem('unknown-reference', e.message, {
        reference: { kind: e.kind, key: e.key },
        ...(e.suggestions.length > 0 && { suggestions: [...e.suggestions] }),
        pointer: e.field === undefined ? `/events/${e.eventIndex}/data` : `/events/${e.eventIndex}/data/${e.field}`,
      });
    }
    case 'already_defined': {
      const e = error;
      return problem('already-defined', e.message, { reference: { kind: e.kind, key: e.key }, ...at(e.eventIndex) });
    }
    case 'retraction_refused': {
      const e = error;
      const slug = e.reason === 'already_retracted' ? 'already-retracted' : e.reason === 'unknown_event' ? 'unknown-reference' : 'not-retractable';
      return problem(slug, e.message, { eventId: e.eventId, ...at(e.eventIndex) });
    }
    case 'idempotency_key_reused':
      return problem('idempotency-key-reused', error.message);
    case 'event_not_found':
      return problem('not-found', error.message);
    case 'subject_not_found':
      return problem('not-found', error.message, error.suggestions.length > 0 ? { suggestions: [...error.suggestions] } : {});
    case 'unauthenticated':
      return problem('unauthorized', error.message);
    case 'forbidden':
      return problem('forbidden', error.message, { role: error.role, requiredRole: error.requiredRole });
    case 'rate_limited':
      return problem('rate-limited', error.message, { retryAfterSeconds: error.retryAfterSeconds });
    case 'webhook_target_refused':
      return problem('webhook-target-refused', error.message, {
        reason: error.reason,
        errors: [{ pointer: '/url', detail: error.message }],
      });
    case 'too_many_feeds':
      return problem('too-many-feeds', error.message, { limit: error.limit, retryAfterSeconds: error.retryAfterSeconds });
    case 'feed_capacity_reached':
      return problem('feed-capacity-reached', error.message, { limit: error.limit, retryAfterSeconds: error.retryAfterSeconds });
    case 'too_many_secrets':
      return problem('too-many-secrets', error.message, { limit: error.limit, nextExpiry: error.nextExpiry?.toISOString() ?? null });
    case 'delivery_in_flight':
      return problem('delivery-in-flight', error.message, { deliveryId: error.deliveryId });
    case 'invalid_cursor':
      return problem('invalid-cursor', error.message, { errors: [{ parameter: error.parameter, detail: error.message }] });
    case 'database_unavailable':
      return problem('database-unavailable', error.message, { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
    case 'commit_outcome_unknown':
      return problem('commit-outcome-unknown', error.message, {
        // With the events' ids, a check means something only once the append cannot still be running.
        retryAfterSeconds: error.settledAfterSeconds ?? DATABASE_RETRY_AFTER_SECONDS,
        ...(error.idempotencyKey !== undefined && { idempotencyKey: error.idempotencyKey }),
        ...(error.eventIds.length > 0 && { eventIds: [...error.eventIds] }),
      });
    case 'statement_timeout':
      return problem('database-timeout', error.message, { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
    case 'transaction_conflict':
      return problem('database-conflict', error.message, { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
    case 'database_full':
      return problem('database-full', error.message, { retryAfterSeconds: DATABASE_FULL_RETRY_AFTER_SECONDS });
    default: {
      const unmapped: never = error;
      throw new Error(`unmapped domain error ${String(unmapped)}`);
    }
  }
}

function isFastifyClientError(error: unknown): error is FastifyError & { statusCode: number } {
  return (
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  );
}

/**
 * Fastify's own refusals. A body too large, or not JSON, says what this route takes and what it
 * was sent (until 2026-12-06, "Request body is too large" and "Unsupported Media Type"; found by the
 * probe of every route).
 */
function fastifyProblem(error: FastifyError, told: RequestTold): ProblemDetails {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(
        'payload-too-large',
        told.bodyLimit === undefined ? error.message : `the request body is larger than the ${told.bodyLimit} bytes this route takes; send less in one request`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(
        'unsupported-media-type',
        `the request body must be JSON, sent with Content-Type: application/json; ${told.contentType === undefined || told.contentType === '' ? 'this request has no Content-Type' : `this one is ${quoted(told.contentType)}`}`,
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('malformed-request', error.message);
    // The URL quoted as any client value is: the router's messages carried it whole, up to the 16 KB
    // the headers may hold (found by the probe of the README's claims).
    case 'FST_ERR_BAD_URL':
      return told.url === undefined
        ? problem('malformed-url', error.message)
        : problem('malformed-url', `the path ${quoted(told.url)} does not decode: a % takes two hex digits (%25 is a percent sign), and the bytes they spell must be UTF-8`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return told.url === undefined
        ? problem('uri-too-long', error.message)
        : problem('uri-too-long', `a path parameter of ${quoted(told.url)} is longer than any this service has`);
    default:
      return { ...problem('bad-request', error.message), status: error.statusCode ?? 400 };
  }
}

/**
 * The headers every answer carries, the problems of the router and Node's raw ones included, which
 * no hook sees: its type is what it says (the review of nosniff found them without it).
 */
export const ANSWER_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

function sendProblem(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply.code(body.status).headers(ANSWER_HEADERS).header('x-request-id', reply.request.id).type(PROBLEM_MEDIA_TYPE).send({ ...body, instance: reply.request.url });
}

/**
 * Fastify answers a URL it cannot decode, or a path parameter over its length limit, from the
 * router, before any hook or error handler: the `frameworkErrors` option routes them here.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, toProblem(error, { url: request.url }));
}

/**
 * Node answers an `Expect` other than 100-continue with a bare 417 before Fastify sees the
 * request, unless the server handles 'checkExpectation' (this).
 */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = problem('expectation-failed', 'this service meets no Expect header but 100-continue');
  const text = JSON.stringify({ ...body, instance: request.url });
  response.writeHead(body.status, { ...ANSWER_HEADERS, 'content-type': PROBLEM_MEDIA_TYPE, 'content-length': Buffer.byteLength(text), connection: 'close' });
  response.end(text);
}

/**
 * Errors Node raises before a request exists (a request that did not arrive within the request
 * timeout, headers too large, unparsable HTTP): answered on the raw socket, as problem+json too.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection is gone: there is no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const body =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problem('request-timeout', 'the whole request must arrive within the request timeout')
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? problem('headers-too-large', 'the request headers exceed the size this server accepts')
        : problem('malformed-request', 'the request is not well-formed HTTP');
  const text = JSON.stringify(body);
  noteRawAnswer(socket, body.status);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? ''}\r\nConnection: close\r\n` +
        Object.entries(ANSWER_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('') +
        `Content-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}

export function registerErrorHandling(app: FastifyInstance, routerOptions: { readonly ignoreTrailingSlash: boolean }): void {
  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error, { bodyLimit: request.routeOptions.bodyLimit, contentType: request.headers['content-type'] });
    // A shutdown's 503 is an answer the operator asked for, not a failure: said once, at the signal.
    if (body.status >= 500 && !(error instanceof ShuttingDownError)) request.log.error({ err: error }, 'request failed');
    if (body.status === 401) reply.header('www-authenticate', 'Bearer');
    if (typeof body.retryAfterSeconds === 'number') reply.header('retry-after', String(body.retryAfterSeconds));
    // The codings this service reads: none (RFC 9110 §12.5.3).
    if (error instanceof UnsupportedContentCodingError) reply.header('accept-encoding', 'identity');
    return sendProblem(reply, body);
  });
  const methodsOf = trackRouteMethods(app, routerOptions);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = methodsOf(path);
    // A route of this method that found nothing (an unknown board asset) is a 404 as well.
    if (allowed.length === 0 || allowed.some((method) => method === request.method)) {
      return sendProblem(reply, problem('not-found', `no route ${request.method} ${path}`));
    }
    reply.header('allow', allowed.join(', '));
    return sendProblem(reply, problem('method-not-allowed', `${path} takes ${allowed.join(', ')}, not ${request.method}`, { allowed: [...allowed] }));
  });
}
