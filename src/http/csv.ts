import { stringify } from 'csv-stringify/sync';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { lastCovered, type Cutoff } from '../domain/cut-off.js';
import { CSV_MEDIA_TYPE, JSON_MEDIA_TYPE } from './media-types.js';

/** What a view answers in, JSON first: without an Accept header, or with one that prefers neither, JSON. */
const VIEW_MEDIA_TYPES = [JSON_MEDIA_TYPE, CSV_MEDIA_TYPE];

/**
 * Whether the client prefers CSV (spreadsheets) to JSON, by the Accept header's quality values
 * (RFC 9110 §12.5.1): `text/csv;q=0` refuses CSV, `application/json, text/csv;q=0.5` prefers JSON.
 * The reply says that it varies by Accept, whichever it is, so that a cache between the two never
 * hands a JSON answer to a request for CSV or the other way round (RFC 9110 §12.5.5).
 */
export function negotiateCsv(request: FastifyRequest, reply: FastifyReply): boolean {
  reply.header('vary', 'Accept');
  return new Negotiator({ headers: { accept: request.headers.accept } }).mediaType(VIEW_MEDIA_TYPES) === CSV_MEDIA_TYPE;
}

export type CsvCell = string | number | boolean | undefined;

// A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV Injection"),
// fullwidth forms included, which some spreadsheets fold to their ASCII twins.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * What a view resolved its cut-offs (and a range) to, column by column: written on every row, so
 * that a CSV saved to a file still says what it was taken at, as the JSON's `cutoff` does.
 */
export type ResolvedColumns = Readonly<Record<string, string | undefined>>;

/**
 * RFC 4180 text: a header row, then one row per record, each ending with the `resolved` columns.
 * Text written by clients (titles, sources) cannot become a formula: a text cell starting with `=`,
 * `+`, `-`, `@`, tab or CR is prefixed with `'` and quoted, as OWASP advises. Numbers are written as
 * they are, so a -3 stays a number.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[], resolved: ResolvedColumns): string {
  const names = Object.keys(resolved);
  const values = names.map((name) => resolved[name]);
  return stringify([[...header, ...names], ...rows.map((row) => [...row, ...values])], {
    record_delimiter: 'windows',
    // The library quotes a field holding its record delimiter (CRLF), not one holding a bare LF or CR,
    // which a strict reader (Python's csv, Excel) takes for the end of the row.
    quoted_match: /[\r\n]/,
    // The library prefixes the quote; the cast below quotes the field, so the `'` reads as part of the text.
    escape_formulas: true,
    cast: {
      string: (value) => (FORMULA_START.test(value) ? { value, quoted: true } : value),
      // Its default writes true as 1 and false as an empty cell.
      boolean: (value) => String(value),
    },
  });
}

/**
 * Answers with CSV instead of the JSON body the route returns: the route keeps one typed result
 * and one schema, and the serializer is swapped for this reply only. A page of a list that goes on
 * names the next one in a Link header (RFC 8288, rel="next"): the request's own URL with `after`
 * set to the page's cursor, since CSV has no place for the `nextCursor` the JSON carries.
 */
export function replyCsv(reply: FastifyReply, csv: string, filename: string, nextCursor?: string, cutoff?: Cutoff): void {
  reply.type('text/csv; charset=utf-8').header('content-disposition', `inline; filename="${filename}"`).serializer(() => csv);
  if (nextCursor !== undefined) reply.header('link', `<${nextPageUrl(reply.request.url, nextCursor, cutoff)}>; rel="next"`);
}

/**
 * A request's path and query with `after` set to `cursor` (a relative reference, resolved against
 * the request's URL), and a knownAt as the page was answered at: one not settled when asked was
 * answered at an earlier instant (services/status-views.ts), which the next pages must keep.
 */
function nextPageUrl(requestUrl: string, cursor: string, cutoff: Cutoff | undefined): string {
  const url = new URL(requestUrl, 'http://localhost');
  url.searchParams.set('after', cursor);
  if (cutoff?.knownBefore !== undefined) url.searchParams.set('knownAt', lastCovered(cutoff.knownBefore).toISOString());
  return `${url.pathname}${url.search}`;
}
