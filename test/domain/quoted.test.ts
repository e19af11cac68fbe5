import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../src/domain/errors.js';
import { cutQuote, quoted, shownText } from '../../src/domain/quoted.js';

describe("a client's text in a message", () => {
  it('shows what a reader cannot see as escapes, in both quotes: controls, C1 controls, bidirectional and zero-width marks, separators, half pairs', () => {
    const sent = 'a\u0000\u001b[31m\u009b\u202e\u200b\u2028\ud800b';

    expect(shownText(sent)).toBe('a\\u0000\\u001b[31m\\u009b\\u202e\\u200b\\u2028\\ud800b');
    expect(quoted(sent)).toBe('"a\\u0000\\u001b[31m\\u009b\\u202e\\u200b\\u2028\\ud800b"');
  });

  it('keeps what a reader sees as it is: letters of any script, emoji with their joiners, and writes a character beyond U+FFFF in one escape', () => {
    expect(shownText('été 한국 👨\u200d👩\u200d👧')).toBe('été 한국 👨\u200d👩\u200d👧');
    expect(quoted('👨\u200d👩')).toBe('"👨\u200d👩"');
    // A tag character (a format character): one escape of its code point, not a 5-digit \u that reads as two.
    expect(shownText('a\u{e0001}b')).toBe('a\\u{e0001}b');
  });

  it('doubles a backslash, so that one sent is not read as an escape', () => {
    expect(shownText('\\u001b')).toBe('\\\\u001b');
    expect(quoted('\\u001b')).toBe('"\\\\u001b"');
  });

  it('cuts after 100 characters without splitting a pair', () => {
    const text = `a${'😀'.repeat(120)}`;

    const cut = cutQuote(text, shownText);

    expect(cut).toBe(`a${'😀'.repeat(49)}… (241 characters)`);
    expect(cut).not.toContain('\\ud83d');
  });

  it('quotes a refused cursor by the same rule: cut after 100 characters without splitting a pair, invisible characters escaped (review of 2026-12-07)', () => {
    const cursor = `${'a'.repeat(99)}😀\u001bb`;

    const said = new InvalidCursorError(cursor).message;

    expect(said).toBe(`'${'a'.repeat(99)}…' (${cursor.length} characters) is not a cursor this service issued`);
    expect(new InvalidCursorError('\u001b[31m').message).toBe("'\\u001b[31m' is not a cursor this service issued");
  });
});
