/*
 * The response headers the service sends, declared in the generated document where it sends them,
 * so that a client generated from it reads them by name (until 2026-12-06 no response declared a
 * header: a CSV client had to find the next page's Link, and every client the rate limit's
 * headers, in the README; found by the probe of the OpenAPI document). Optional, as OpenAPI
 * headers are unless required: a header is declared wherever the service may send it.
 */

import { isRecord, operationsOf, responsesOf } from './openapi-document.js';

interface Header {
  readonly description: string;
  readonly schema: { readonly type: 'integer'; readonly minimum: number } | { readonly type: 'string' };
}
const integer = (description: string): Header => ({ description, schema: { type: 'integer', minimum: 0 } });
const text = (description: string): Header => ({ description, schema: { type: 'string' } });

/** components.headers of the document: each response refers to them by name. */
export const RESPONSE_HEADERS = {
  'X-RateLimit-Limit': integer('Requests a key may make in a minute (RATE_LIMIT_PER_MINUTE)'),
  'X-RateLimit-Remaining': integer("Requests left to the key in this minute's window"),
  'X-RateLimit-Reset': integer("Seconds until this minute's window ends"),
  'Retry-After': integer('Seconds to wait before asking again'),
  Location: text('Where what was created can be read'),
  Link: text('The next page of a CSV answer, `<…&after=…>; rel="next"` (RFC 8288): CSV has no place for nextCursor'),
  'Content-Disposition': text('`inline; filename="….csv"` on a CSV answer'),
  'WWW-Authenticate': text('`Bearer`: the scheme a key is sent in'),
};
type HeaderName = keyof typeof RESPONSE_HEADERS;

const refer = (...names: HeaderName[]) => Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

/**
 * On every answer to a request counted against its key (src/http/route-access.ts): a 401 too, as a
 * key revoked while its request's body arrived was counted before it was refused.
 */
const RATE_LIMIT = refer('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
const RETRY_AFTER = refer('Retry-After');
const LOCATION = refer('Location');
const NEXT_PAGE = refer('Link');
const CSV_FILE = refer('Content-Disposition');
const CHALLENGE = refer('WWW-Authenticate');

const takesCursor = (operation: Record<string, unknown>): boolean =>
  Array.isArray(operation.parameters) && operation.parameters.some((p) => isRecord(p) && p.name === 'after' && p.in === 'query');

const isKeyed = (operation: Record<string, unknown>): boolean => Array.isArray(operation.security) && operation.security.length > 0;

function headersOf(operation: Record<string, unknown>, status: string, response: Record<string, unknown>): Record<string, unknown> {
  const csv = isRecord(response.content) && 'text/csv' in response.content && status.startsWith('2');
  return {
    ...(isKeyed(operation) && RATE_LIMIT),
    ...((status === '429' || status === '503') && RETRY_AFTER),
    ...(status === '201' && LOCATION),
    ...(status === '401' && CHALLENGE),
    ...(csv && CSV_FILE),
    ...(csv && takesCursor(operation) && NEXT_PAGE),
  };
}

export function describeHeaders(paths: unknown): void {
  for (const operation of operationsOf(paths)) {
    for (const [status, response] of responsesOf(operation)) {
      const headers = headersOf(operation, status, response);
      if (Object.keys(headers).length > 0) response.headers = { ...(isRecord(response.headers) ? response.headers : {}), ...headers };
    }
  }
}
