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

// Characters a reader cannot see, or that act on what shows them: control characters (a terminal
// takes ESC [31m as a colour), format characters (bidirectional marks, zero-width spaces), line and
// paragraph separators, and a surrogate without its pair.
const UNSEEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

/**
 * A client's text as a message shows it between its own marks ('2026-13'): each character a reader
 * could not see written as its escape (\u001b), as the quotes made by JSON show them. Until
 * 2026-12-07 a date's quote passed them on as they came: a NUL showed as a blank, ESC [31m coloured
 * the terminal that showed the answer (found by the probe of hostile input).
 */
export const shownText = (text: string): string =>
  text.replace(UNSEEN, (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
