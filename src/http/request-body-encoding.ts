import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { shownText } from '../domain/quoted.js';
import { BodyNotJsonError, BodyNotUtf8Error, UnsupportedCharsetError, UnsupportedContentCodingError } from './error-handler.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8 = /^utf-?8$/i;
// No coding at all: identity, or a header left empty.
const IDENTITY = /^\s*(identity)?\s*$/i;

/** Whether a body follows the headers (RFC 9112 §6.3): a length above zero, or a chunked one. */
const hasBody = (headers: { readonly 'content-length'?: string | undefined; readonly 'transfer-encoding'?: string | undefined }): boolean =>
  headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');

/*
 * A request body is JSON as the client sent it: UTF-8 (RFC 8259 §8.1), not compressed. Events are
 * immutable, so a body read otherwise than it was meant would be stored wrong for good.
 */

/**
 * Refuses, before the body is read (415), one declared in any charset but UTF-8 (Fastify's JSON
 * parser ignores the parameter and reads UTF-8, so a UTF-16 body would be misread, not refused)
 * and one in a content coding (Fastify reads the bytes as they come, so a gzip body would be
 * refused as bad JSON, and a `br` label on plain JSON ignored). After authentication and the role
 * check, so a client without the right key is told that first.
 */
export function registerBodyEncodingChecks(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    // A request without a body (a GET) has nothing to read in any coding or charset.
    if (!hasBody(request.headers)) return payload;
    const coding = request.headers['content-encoding'];
    if (coding !== undefined && !IDENTITY.test(coding)) throw new UnsupportedContentCodingError(coding);
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !UTF8.test(charset)) throw new UnsupportedCharsetError(charset);
    return payload;
  });
  // The parser Fastify's own calls (secure-json-parse), with the app's settings, given the bytes
  // once they are known to be UTF-8: read as text first, an invalid sequence would become U+FFFD and
  // be stored as if the client had sent it. Called here rather than through Fastify's, which drops
  // the parser's error: every body that did not parse was told "Body is not valid JSON", with no
  // place, and so was valid JSON holding a `__proto__` key (found by the probe of hostile input,
  // 2026-12-07).
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    if (!isUtf8(body)) {
      done(new BodyNotUtf8Error(), undefined);
      return;
    }
    // An empty body is no body (RFC 9110 §8.6: Content-Length 0 says there is no content), whatever
    // its Content-Type: many clients label every request application/json, a DELETE included. Until
    // 2026-12-07 it was refused 400 as empty JSON, so that such a client could not revoke a key;
    // an operation that needs a body still says so, naming it as required.
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    const text = body.toString('utf8');
    try {
      const value: unknown = secureJson.parse(text, { protoAction: onProtoPoisoning, constructorAction: onConstructorPoisoning });
      done(null, value);
    } catch (error) {
      done(new BodyNotJsonError(whyNotJson(error)), undefined);
    }
  });
}

/** What the parser found, in words a writer can act on. */
function whyNotJson(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Object contains forbidden prototype property') {
    return 'the body holds a key "__proto__", or a key "constructor" holding "prototype": this service takes neither (they would reach a JavaScript object\'s prototype); rename the key';
  }
  // V8's own words: where the text broke ("Expected ',' or '}' after property value in JSON at
  // position 12"), with at most a few characters of it.
  return `the body is not valid JSON: ${shownText(message)}`;
}
