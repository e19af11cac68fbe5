/** The most characters of a client's value that a message quotes. */
export const MOST_QUOTED = 100;

/**
 * A value a client sent, quoted in a message that refuses it: a string as JSON, cut after
 * MOST_QUOTED characters, anything else by its kind, so that an answer never grows with what it
 * refuses, nor walks what a client nested without end (until 2026-12-06 a 4 MB type came back twice,
 * in 8 MB, and a type nested 5,000 arrays deep overflowed the stack of JSON.stringify: a 500; found
 * by the probe of every route).
 */
export function quoted(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= MOST_QUOTED ? JSON.stringify(value) : `${JSON.stringify(`${value.slice(0, MOST_QUOTED)}…`)} (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
