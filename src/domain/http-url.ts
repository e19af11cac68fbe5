import { z } from 'zod';
import { isSafeText, UNSAFE_TEXT_ERROR } from './safe-text.js';

const MAX_LENGTH = 2048;

/**
 * An absolute http(s) URL, as a source or a webhook target is given. Each check carries its own
 * message: a check without one would take the URL check's (zod applies a schema's `error` to every
 * check of it), and a URL too long would be told it is not absolute.
 */
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'url must be an absolute http(s) URL' })
  .max(MAX_LENGTH, { error: `url must be at most ${String(MAX_LENGTH)} characters long` })
  // The URL parser accepts a NUL or an unpaired surrogate in a path (it percent-encodes them), and
  // zod keeps the text as given: refused here, as in any other text, not by the database.
  .refine(isSafeText, { error: UNSAFE_TEXT_ERROR });

/**
 * Where a webhook is delivered: an HttpUrl that a delivery can reach as written. A fragment is never
 * sent in a request (RFC 9110 §7.1), so a target that differs from another by one alone would be
 * the same target under two names; nothing listens on port 0.
 */
export const WebhookTargetUrl = HttpUrl.refine((url) => !url.includes('#'), {
  error: 'url must have no fragment (#…): a delivery never sends it',
}).refine((url) => URL.parse(url)?.port !== '0', { error: 'url must not name port 0: nothing can be reached there' });
