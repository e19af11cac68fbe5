import type { FastifyRequest } from 'fastify';
import type { FieldError } from './problem.js';

/** How many times a request sent a header: Node joins most repeated headers with ", ", and keeps the first of a few. */
export function timesSent(request: FastifyRequest, name: string): number {
  const lower = name.toLowerCase();
  return request.raw.rawHeaders.filter((header, index) => index % 2 === 0 && header.toLowerCase() === lower).length;
}

/** Headers that may be sent once, sent more than once: which is meant cannot be told. */
export class RepeatedHeadersError extends Error {
  readonly errors: readonly FieldError[];
  constructor(name: string, times: number) {
    const detail = `sent ${times} times: send it once`;
    super(`the headers are not valid: ${name}: ${detail}`);
    this.errors = [{ parameter: name, detail }];
  }
}

/**
 * Refuses a header sent more than once (RFC 9110 §5.3: a field that is not a list is sent once).
 * Node joined two `Idempotency-Key` headers into one key, "a, b", which matched neither a client's
 * retry sending one of them (found by the probe of hostile input, 2026-12-07).
 */
export function refuseRepeated(request: FastifyRequest, name: string): void {
  const times = timesSent(request, name);
  if (times > 1) throw new RepeatedHeadersError(name, times);
}
