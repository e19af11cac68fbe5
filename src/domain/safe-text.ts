import { z } from 'zod';

// A surrogate without its pair: JSON carries it, PostgreSQL text and jsonb cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isSafeText = (text: string): boolean => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

export const UNSAFE_TEXT_ERROR = 'must not contain NUL characters or unpaired surrogates';

/**
 * A trimmed text that came out empty: zod's "expected string to have >=1 characters" was said of a
 * value of one space (found by the probe of hostile input, 2026-12-07).
 */
export const BLANK_TEXT_ERROR = 'must not be empty or white space alone';

/** A string the store can keep: refused at validation rather than failing in the database. */
export const SafeText = z.string().refine(isSafeText, { error: UNSAFE_TEXT_ERROR });

/**
 * Control characters (line breaks and tabs among them), line and paragraph separators, and the
 * invisible format characters (marks that reorder text, zero-width spaces, the byte-order mark, soft
 * hyphens, tags): a label an admin gives (a key's name, which is its events' actor) is shown to
 * others in one line, and with them could pass for another (found by the probe of access; the
 * separators and zero-width characters by the review). The zero-width joiner and non-joiner stay:
 * scripts and emoji need them to be written at all.
 */
const LABEL_UNSAFE = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export const isLabelText = (text: string): boolean => isSafeText(text) && !LABEL_UNSAFE.test(text);

export const UNSAFE_LABEL_ERROR =
  'must be one line of visible text: no control characters (line breaks, tabs), no line or paragraph separators, no invisible format characters (bidirectional controls such as U+202E, zero-width spaces, U+FEFF), no unpaired surrogates';
