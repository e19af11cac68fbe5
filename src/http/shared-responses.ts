import { PROBLEM_MEDIA_TYPE, ProblemDetails } from './problem.js';

const problem = (description: string) => ({ description, content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemDetails } } });

/**
 * Answers any route can give, whatever it does: Node or Fastify give them before (or around) the
 * handler, or the instance or its database is unwell. A route's own declaration of a status wins.
 */
const ANY_ROUTE = {
  400: problem('The request is not valid (validation-failed, malformed-url, malformed-request, …)'),
  408: problem('The request did not arrive in time (request-timeout)'),
  417: problem('The Expect header asks for something this service does not do (expectation-failed)'),
  431: problem('The request headers are too large (headers-too-large)'),
  500: problem('Something went wrong on our side (internal-error)'),
  503: problem('Shutting down, or the database is unreachable or too slow: retry shortly (shutting-down, database-unavailable, database-timeout, …)'),
};

/** A route with path parameters refuses one longer than any this service has. */
const WITH_PATH_PARAMETERS = { 414: problem('A path parameter is longer than any this service has (uri-too-long)') };

/** A method that carries a body may send one too large, or not JSON: a DELETE too (until 2026-12-06 undeclared there). */
const WITH_BODY = {
  413: problem('The request body is too large (payload-too-large)'),
  415: problem('The request body must be application/json, in UTF-8 (unsupported-media-type)'),
};

/** Answers of every route that needs an API key (SPEC §8). */
const KEYED = {
  401: problem('No API key, or not a valid one (unauthorized)'),
  403: problem("The API key's role does not allow this (forbidden)"),
  429: problem('Too many requests with this API key: wait Retry-After seconds (rate-limited)'),
};

/** A read by key answers only in the media types its route declares (response-negotiation.ts). */
const NEGOTIATED = { 406: problem('The Accept header allows none of the media types this resource answers in; `available` names them (not-acceptable)') };

/** The problem answers a route can give without declaring them, by its method, URL and whether it needs a key. */
export function sharedResponses(methods: readonly string[], url: string, keyed: boolean): Record<string, unknown> {
  return {
    ...ANY_ROUTE,
    ...(url.includes(':') && WITH_PATH_PARAMETERS),
    ...(methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH' || m === 'DELETE') && WITH_BODY),
    ...(keyed && KEYED),
    ...(keyed && methods.includes('GET') && NEGOTIATED),
  };
}
