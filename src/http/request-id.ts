import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { API_KEY_PREFIX } from '../domain/access.js';

// Short and visible ASCII: the id is echoed in a header, written to every log line and stored in
// each event's metadata, so a client must not be able to put 8 KB or control characters there.
const CLIENT_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The client's `x-request-id` when it is one we can carry as it is; otherwise a fresh UUID. Not one
 * holding an API key of this service's shape (a client's mistake): the id is on every log line
 * (the review of the log's redaction).
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) && !given.toLowerCase().includes(API_KEY_PREFIX) ? given : randomUUID();
}
