import { z } from 'zod';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * Every kind of error the API answers with, by stable slug. The problem `type` is
 * `/problems/<slug>`, a URI this service also serves, so a client can look a type up.
 */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-request': { status: 400, title: 'The request body is not well-formed JSON' },
  'invalid-cursor': { status: 400, title: 'The cursor is not one this service issued' },
  'not-found': { status: 404, title: 'No such resource' },
  'version-conflict': { status: 409, title: 'The stream is not at the expected version' },
  'already-defined': { status: 409, title: 'The thing this event defines already exists' },
  'already-retracted': { status: 409, title: 'The event is already retracted' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'unknown-reference': { status: 422, title: 'The event refers to something that does not exist' },
  'not-retractable': { status: 422, title: 'This event cannot be retracted' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used with a different request' },
  'bad-request': { status: 400, title: 'The request cannot be processed' },
  'internal-error': { status: 500, title: 'Something went wrong on our side' },
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

/** RFC 9457 problem details; extension members (`errors`, `currentVersion`, …) pass through. */
export const ProblemDetails = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(FieldError).optional(),
  })
  .meta({ id: 'ProblemDetails' });
export type ProblemDetails = z.infer<typeof ProblemDetails>;

export function problem(slug: ProblemSlug, detail: string, extensions: Record<string, unknown> = {}): ProblemDetails {
  const { status, title } = PROBLEM_TYPES[slug];
  return { type: problemTypeUri(slug), title, status, detail, ...extensions };
}
