/** The most characters of a client's value that a message quotes. */
const MOST_QUOTED = 100;

/**
 * A client's text quoted for a message: cut after MOST_QUOTED characters, then its length.
 * @param quote  how the text is put between its marks (JSON escapes them)
 */
export function cutQuote(text: string, quote: (text: string) => string): string {
  return text.length <= MOST_QUOTED ? quote(text) : `${quote(`${text.slice(0, MOST_QUOTED)}…`)} (${text.length} characters)`;
}

/**
 * A value a client sent, quoted in a message that refuses it: a string as JSON, cut after
 * MOST_QUOTED characters, anything else by its kind, so that an answer never grows with what it
 * refuses, nor walks what a client nested without end (until 2026-12-06 a 4 MB type came back twice,
 * in 8 MB, and a type nested 5,000 arrays deep overflowed the stack of JSON.stringify: a 500; found
 * by the probe of every route).
 */
export function quoted(value: unknown): string {
  if (typeof value === 'string') return cutQuote(value, JSON.stringify);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
