import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX } from '../domain/access.js';

/**
 * Paths pino replaces with "[Redacted]" in every log line: API keys (the Authorization header)
 * and webhook secrets in every shape the code holds them (a subscription's `secret`, the
 * `secrets[]` of a rotation, the signature header of an outbound webhook). fast-redact does not
 * search deeper than a path says, so a secret nested deeper must be logged through one of these shapes.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'headers.authorization',
  'headers["webhook-signature"]',
  '*.headers["webhook-signature"]',
  'secret',
  '*.secret',
  'secrets[*].secret',
  '*.secrets[*].secret',
];

/**
 * Names under which clients send credentials by mistake, as query parameters (the service reads
 * keys from Authorization only) or headers: their values are never logged, whatever their shape
 * (ADMIN_API_KEY has none of its own). Not Idempotency-Key, which is no secret and traces a request.
 */
const CREDENTIAL_PARAMETER =
  /([?&](?:[A-Za-z0-9]+(?:[_-]|%5[Ff]|%2[Dd]))*(?:api(?:[_-]|%5[Ff]|%2[Dd])?key|apikey|token|auth|authorization|bearer|key|secret|password)=)[^&#]*/gi;
const CREDENTIAL_HEADER = /(?:^|[-_])(?:auth|authorization|authentication|token|api[-_]?key|apikey|key|secret|password|session)(?:[-_]|$)/i;
/** Named like a credential, and none: it traces a request. */
const NOT_A_CREDENTIAL = new Set(['idempotency-key']);
/**
 * A key of this service's shape anywhere (a path, a parameter or header of another name, a
 * Referer), its underscore percent-encoded or not.
 */
const ISSUED_KEY = new RegExp(`${API_KEY_PREFIX.slice(0, -1)}(?:_|%5[Ff])[A-Za-z0-9_%-]{8,}`, 'g');
const REDACTED_KEY = `${API_KEY_PREFIX}[Redacted]`;

/**
 * The URL as logged: a key sent in it is refused, but was logged whole until 2026-12-06 (found by
 * the probe of access under load), and a log is read by more people than keys are given to.
 */
const loggedUrl = (url: string): string => url.replace(CREDENTIAL_PARAMETER, '$1[Redacted]').replace(ISSUED_KEY, REDACTED_KEY);

/** The headers as logged: a credential's name hides its value, and a key of this service's shape is hidden in any (review). */
function loggedHeaders(headers: FastifyRequest['headers']): Record<string, string | string[] | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      if (value === undefined) return [name, value];
      if (CREDENTIAL_HEADER.test(name) && !NOT_A_CREDENTIAL.has(name.toLowerCase())) return [name, '[Redacted]'];
      return [name, Array.isArray(value) ? value.map((v) => v.replace(ISSUED_KEY, REDACTED_KEY)) : value.replace(ISSUED_KEY, REDACTED_KEY)];
    }),
  );
}

/**
 * Fastify's own request serializer logs no headers, so the redaction of Authorization would
 * protect nothing anyone could see. This one logs the headers (a copy: redaction must never touch
 * the live request) so that a request can be traced by its user agent, idempotency key and
 * forwarded address, while the paths above stay redacted.
 */
function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: loggedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
    // An x-request-id the service replaced (too long, unprintable) is left out: `reqId` is the one in use.
    headers: { ...loggedHeaders(request.headers), 'x-request-id': request.headers['x-request-id'] === request.id ? request.id : undefined },
  };
}

/** The logger options of every app: JSON lines with the request id as `reqId`. main.ts adds the level. */
export const LOGGER_OPTIONS = Object.freeze({
  redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
  serializers: { req: serializeRequest },
});
