import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDomainError, type KnownDomainError } from '../domain/errors.js';
import { toFieldErrors, type IssueLike } from './field-errors.js';
import { problem, PROBLEM_MEDIA_TYPE, type ProblemDetails } from './problem.js';

const ZodIssue: z.ZodType<IssueLike> = z.lazy(() =>
  z.object({
    path: z.array(z.union([z.string(), z.number()])),
    message: z.string(),
    code: z.string().optional(),
    errors: z.array(z.array(ZodIssue)).optional(),
  }),
);
const UnionBranches = z.object({ errors: z.array(z.array(ZodIssue)).optional() });

/** The one place where errors become HTTP responses: RFC 9457 problem+json, always. */
function toProblem(error: unknown): ProblemDetails {
  if (isDomainError(error)) return domainProblem(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: v.instancePath.split('/').slice(1),
      message: v.message ?? 'invalid',
      code: v.keyword,
      errors: UnionBranches.parse(v.params).errors,
    }));
    const errors = toFieldErrors(issues, error.validationContext);
    const where = error.validationContext ?? 'request';
    return problem('validation-failed', `the ${where} is not valid: ${errors.map(describeFieldError).join('; ')}`, { errors });
  }
  if (isFastifyClientError(error)) return fastifyProblem(error);
  return problem('internal-error', 'the error has been logged');
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
      return problem('unknown-reference', e.message, { reference: { kind: e.kind, key: e.key }, ...at(e.eventIndex) });
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
    case 'subject_not_found':
      return problem('not-found', error.message);
    case 'invalid_cursor':
      return problem('invalid-cursor', error.message, { errors: [{ parameter: 'after', detail: error.message }] });
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

function fastifyProblem(error: FastifyError): ProblemDetails {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload-too-large', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-media-type', error.message);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('malformed-request', error.message);
    default:
      return { ...problem('bad-request', error.message), status: error.statusCode ?? 400 };
  }
}

function sendProblem(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply.code(body.status).type(PROBLEM_MEDIA_TYPE).send({ ...body, instance: reply.request.url });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const body = toProblem(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem('not-found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}
