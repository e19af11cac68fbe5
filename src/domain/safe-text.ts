import { z } from 'zod';

// A surrogate without its pair: JSON carries it, PostgreSQL text and jsonb cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string the store can keep: refused at validation rather than failing in the database. */
export const SafeText = z.string().refine((text) => !text.includes('\u0000') && !LONE_SURROGATE.test(text), {
  error: 'must not contain NUL characters or unpaired surrogates',
});
