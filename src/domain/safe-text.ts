import { z } from 'zod';

// A surrogate without its pair: JSON carries it, PostgreSQL text and jsonb cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isSafeText = (text: string): boolean => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

export const UNSAFE_TEXT_ERROR = 'must not contain NUL characters or unpaired surrogates';

/** A string the store can keep: refused at validation rather than failing in the database. */
export const SafeText = z.string().refine(isSafeText, { error: UNSAFE_TEXT_ERROR });

/**
 * Control characters (line breaks and tabs among them) and the invisible marks that reorder text
 * (bidirectional controls): a label an admin gives (a key's name, which is its events' actor) is
 * shown to others in one line, and with them could pass for another (found by the probe of access).
 */
const LABEL_UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export const isLabelText = (text: string): boolean => isSafeText(text) && !LABEL_UNSAFE.test(text);

export const UNSAFE_LABEL_ERROR =
  'must be one line of visible text: no control characters (line breaks, tabs), no bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), no unpaired surrogates';
