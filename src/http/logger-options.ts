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
  // Where clients put keys by mistake (refused, 401 or 400, but logged as they came).
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers["proxy-authorization"]',
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

/** Query parameters clients put keys in by mistake (refused: the service reads keys from Authorization only). */
const CREDENTIAL_PARAMETER = /([?&](?:api[_-]?key|access[_-]?token|token|key|apikey)=)[^&#]*/gi;
/** A key of this service's shape anywhere in a URL (a path, a parameter of another name). */
const ISSUED_KEY = new RegExp(`${API_KEY_PREFIX}[A-Za-z0-9_-]{8,}`, 'g');

/**
 * The URL as logged: a key sent in it is refused, but was logged whole until 2026-12-06 (found by
 * the probe of access under load), and a log is read by more people than keys are given to.
 */
const loggedUrl = (url: string): string =>
  url.replace(CREDENTIAL_PARAMETER, '$1[Redacted]').replace(ISSUED_KEY, `${API_KEY_PREFIX}[Redacted]`);

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
    headers: { ...request.headers, 'x-request-id': request.headers['x-request-id'] === request.id ? request.id : undefined },
  };
}

/** The logger options of every app: JSON lines with the request id as `reqId`. main.ts adds the level. */
export const LOGGER_OPTIONS = Object.freeze({
  redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' },
  serializers: { req: serializeRequest },
});
