import { z } from 'zod';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * Every kind of error the API answers with, by stable slug. The problem `type` is
 * `/problems/<slug>`, a URI this service also serves, so a client can look a type up.
 */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-request': { status: 400, title: 'The request is not well-formed' },
  'malformed-url': { status: 400, title: 'The URL is not well-formed (bad percent-encoding)' },
  'invalid-cursor': { status: 400, title: 'The cursor cannot be read by this list' },
  unauthorized: { status: 401, title: 'A valid API key is required' },
  forbidden: { status: 403, title: "The API key's role does not allow this" },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'The resource does not take this method' },
  'not-acceptable': { status: 406, title: 'The resource has no representation the Accept header allows' },
  'version-conflict': { status: 409, title: 'The stream is not at the expected version' },
  'already-defined': { status: 409, title: 'The thing this event defines already exists' },
  'already-retracted': { status: 409, title: 'The event is already retracted' },
  'delivery-in-flight': { status: 409, title: 'The delivery is being attempted right now' },
  'too-many-secrets': { status: 409, title: 'The subscription already has as many live signing secrets as it may' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'uri-too-long': { status: 414, title: 'A path parameter is longer than any this service has' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json, in UTF-8, as it is (no content coding)' },
  'expectation-failed': { status: 417, title: 'The Expect header asks for something this service does not do' },
  'unknown-reference': { status: 422, title: 'The event refers to something that does not exist' },
  'not-retractable': { status: 422, title: 'This event cannot be retracted' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used with a different request' },
  'webhook-target-refused': { status: 422, title: 'The webhook URL is not one this service will call' },
  'rate-limited': { status: 429, title: 'Too many requests with this API key' },
  'too-many-feeds': { status: 429, title: 'Too many live feeds open with this API key' },
  'bad-request': { status: 400, title: 'The request cannot be processed' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Something went wrong on our side' },
  'feed-capacity-reached': { status: 503, title: 'This instance holds as many live feeds as it may; retry shortly' },
  'shutting-down': { status: 503, title: 'This instance is shutting down; retry on another, or shortly' },
  'database-unavailable': { status: 503, title: 'The database cannot be reached right now; retry shortly' },
  'commit-outcome-unknown': {
    status: 503,
    title: 'The connection was lost during the append: it may or may not be stored; a retry with the same Idempotency-Key is safe',
  },
  'database-timeout': { status: 503, title: 'The database took too long and the query was cancelled; retry shortly' },
  'database-conflict': { status: 503, title: 'The database stopped the request to resolve a conflict with another; nothing changed, retry shortly' },
  'database-full': { status: 503, title: 'The database has no room left on its disk; nothing was stored' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;

export const problemTypeUri = (slug: ProblemSlug): string => `/problems/${slug}`;

/** A field a validation error is about: a JSON pointer into the body, or a parameter's name. */
export const FieldError = z
  .object({
    pointer: z.string().optional().meta({ description: 'JSON pointer into the request body, e.g. /events/3/data/parties' }),
    parameter: z.string().optional().meta({ description: 'Query, path or header parameter name' }),
    detail: z.string(),
  })
  .meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof FieldError>;

/**
 * The extension members problems carry, each on the problem types the README's table names: a
 * client generating code from the OpenAPI document gets them typed (until 2026-12-06 only `errors`
 * was declared, and `suggestions`, `eventIds` and the rest passed through unnamed).
 */
const ProblemExtensions = {
  errors: z.array(FieldError).optional(),
  pointer: z.string().optional().meta({ description: 'JSON pointer into the request body to the part at fault' }),
  stream: z.string().optional().meta({ description: 'version-conflict: the stream' }),
  expectedVersion: z.int().optional().meta({ description: 'version-conflict: the version the request expected' }),
  currentVersion: z.int().min(0).optional().meta({ description: 'version-conflict: the version the stream is at' }),
  reference: z
    .object({ kind: z.string(), key: z.string() })
    .optional()
    .meta({ description: 'unknown-reference, already-defined: what the event names or defines' }),
  suggestions: z
    .array(z.string())
    .optional()
    .meta({ description: 'unknown-reference, not-found: the closest existing ids, when one is a near miss of the one given' }),
  eventId: z.string().optional().meta({ description: 'already-retracted, not-retractable, unknown-reference: the event a retraction names' }),
  eventIds: z.array(z.string()).optional().meta({
    description:
      'commit-outcome-unknown without an Idempotency-Key: the ids the events were given; GET /v1/events/{first} says whether all or none were stored',
  }),
  idempotencyKey: z.string().optional().meta({ description: 'commit-outcome-unknown: the key a retry should send again' }),
  role: z.string().optional().meta({ description: "forbidden: the key's role" }),
  requiredRole: z.string().optional().meta({ description: 'forbidden: the least role the request needs' }),
  retryAfterSeconds: z.int().min(0).optional().meta({ description: 'rate-limited, too-many-feeds, 503s: as the Retry-After header' }),
  limit: z.int().min(0).optional().meta({ description: 'too-many-feeds, feed-capacity-reached, too-many-secrets: the limit reached' }),
  nextExpiry: z.string().nullable().optional().meta({ description: 'too-many-secrets: when the oldest live secret stops signing' }),
  reason: z.string().optional().meta({ description: 'webhook-target-refused: why the URL is refused' }),
  deliveryId: z.string().optional().meta({ description: 'delivery-in-flight: the delivery' }),
  available: z.array(z.string()).optional().meta({ description: 'not-acceptable: the media types the resource answers in' }),
  allowed: z.array(z.string()).optional().meta({ description: 'method-not-allowed: the methods the resource takes' }),
  charset: z.string().optional().meta({ description: 'unsupported-media-type: the charset refused' }),
  contentEncoding: z.string().optional().meta({ description: 'unsupported-media-type: the content coding refused' }),
};

/** RFC 9457 problem details, with the extension members above; others would pass through. */
export const ProblemDetails = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    ...ProblemExtensions,
  })
  .meta({ id: 'ProblemDetails' });
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** What a problem may carry besides its type, title, status, detail and instance. */
type Extensions = { [K in keyof typeof ProblemExtensions]?: z.infer<(typeof ProblemExtensions)[K]> };

export function problem(slug: ProblemSlug, detail: string, extensions: Extensions = {}): ProblemDetails {
  const { status, title } = PROBLEM_TYPES[slug];
  return { type: problemTypeUri(slug), title, status, detail, ...extensions };
}
