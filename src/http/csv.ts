import type { FastifyReply, FastifyRequest } from 'fastify';

/** Whether the client asked for CSV (spreadsheets) rather than JSON. */
export const wantsCsv = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes('text/csv');

const cell = (value: string | number | boolean | undefined): string => {
  const text = value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** RFC 4180 text: a header row, then one row per record. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | undefined)[])[]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * Answers with CSV instead of the JSON body the route returns: the route keeps one typed result
 * and one schema, and the serializer is swapped for this reply only.
 */
export function replyCsv(reply: FastifyReply, csv: string, filename: string): void {
  reply.type('text/csv; charset=utf-8').header('content-disposition', `inline; filename="${filename}"`).serializer(() => csv);
}
