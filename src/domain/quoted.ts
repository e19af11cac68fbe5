/** The most characters of a client's value that a message quotes. */
const MOST_QUOTED = 100;

/**
 * The first `count` UTF-16 units of a text, one fewer where the cut would split a surrogate pair:
 * a half pair would be shown as a character the client never sent (found by the review of
 * 2026-12-07).
 */
function firstUnits(text: string, count: number): string {
  const cut = text.slice(0, count);
  const last = cut.charCodeAt(cut.length - 1);
  return cut.length === count && last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * A client's text quoted for a message: cut after MOST_QUOTED characters, then its length.
 * @param quote  how the text is put between its marks (JSON escapes them)
 */
export function cutQuote(text: string, quote: (text: string) => string): string {
  return text.length <= MOST_QUOTED ? quote(text) : `${quote(`${firstUnits(text, MOST_QUOTED)}…`)} (${text.length} characters)`;
}

// Characters a reader cannot see, or that act on what shows them: control characters (a terminal
// takes ESC [31m as a colour, and C1's CSI alike), format characters (bidirectional marks, zero-width
// spaces) but the joiners, which scripts and emoji need (as in safe-text.ts), line and paragraph
// separators, and a surrogate without its pair.
const UNSEEN = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

const escapeOf = (char: string): string => {
  const code = char.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * A client's text as a message shows it between its own marks ('2026-13'): each character a reader
 * could not see written as its escape (\u001b, \u{e0001}), and a backslash doubled, so that a
 * backslash the client sent is not read as an escape. Until 2026-12-07 a date's quote passed them on
 * as they came: a NUL showed as a blank, ESC [31m coloured the terminal that showed the answer
 * (found by the probe of hostile input).
 */
export const shownText = (text: string): string => text.replace(/\\/g, '\\\\').replace(UNSEEN, escapeOf);

/**
 * A value a client sent, quoted in a message that refuses it: a string as JSON, with the characters
 * JSON leaves as they are but a reader cannot see (U+202E, U+200B, C1 controls) escaped as shownText
 * escapes them, cut after MOST_QUOTED characters; anything else by its kind, so that an answer never
 * grows with what it refuses, nor walks what a client nested without end (until 2026-12-06 a 4 MB
 * type came back twice, in 8 MB, and a type nested 5,000 arrays deep overflowed the stack of
 * JSON.stringify: a 500; found by the probe of every route).
 */
export function quoted(value: unknown): string {
  if (typeof value === 'string') return cutQuote(value, (text) => JSON.stringify(text).replace(UNSEEN, escapeOf));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}
