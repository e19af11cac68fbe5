import { z } from 'zod';

// A surrogate without its pair: JSON carries it, PostgreSQL text and jsonb cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isSafeText = (text: string): boolean => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

export const UNSAFE_TEXT_ERROR = 'must not contain NUL characters or unpaired surrogates';

/** A string the store can keep: refused at validation rather than failing in the database. */
export const SafeText = z.string().refine(isSafeText, { error: UNSAFE_TEXT_ERROR });
