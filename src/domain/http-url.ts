import { z } from 'zod';
import { isSafeText, UNSAFE_TEXT_ERROR } from './safe-text.js';

const MAX_LENGTH = 2048;

/** White space or a control character anywhere: a URL carries them percent-encoded (a space is %20). */
const RAW_SPACE_OR_CONTROL = /[\s\p{Cc}]/u;
/** The scheme and `//`, white space before them aside (told as such below): the parser would read `https:evil.example` as `https://evil.example/`. */
const ABSOLUTE_HTTP = /^\s*https?:\/\//i;
const NOT_ABSOLUTE = 'url must be an absolute http(s) URL';

const isHttpUrl = (text: string): boolean => {
  const protocol = URL.parse(text)?.protocol;
  return protocol === 'http:' || protocol === 'https:';
};

/**
 * An absolute http(s) URL, as a source or a webhook target is given, kept as written. Each check
 * carries its own message, and the first that fails ends the checks. Not zod's z.url(), which trims
 * the text and drops the tabs and line breaks inside it before it is kept: a source sent as
 * " https://ex.example/p\na\tt\rh " was stored as "https://ex.example/path", and one with a raw
 * space ("…/a https://evil.example/b") read in a CSV's sources cell as two (found by the probe of
 * unusual text). Both are refused now.
 */
export const HttpUrl = z
  .string()
  .max(MAX_LENGTH, { error: `url must be at most ${String(MAX_LENGTH)} characters long` })
  .refine((text) => ABSOLUTE_HTTP.test(text), { error: NOT_ABSOLUTE, abort: true })
  .refine((text) => !RAW_SPACE_OR_CONTROL.test(text), {
    error: 'url must not contain white space or control characters: percent-encode them (a space is %20)',
    abort: true,
  })
  .refine(isHttpUrl, { error: NOT_ABSOLUTE, abort: true })
  // The URL parser accepts an unpaired surrogate in a path (it percent-encodes it): refused here,
  // as in any other text, not by the database.
  .refine(isSafeText, { error: UNSAFE_TEXT_ERROR })
  .meta({ format: 'uri' });

/**
 * Where a webhook is delivered: an HttpUrl that a delivery can reach as written. A fragment is never
 * sent in a request (RFC 9110 §7.1), so a target that differs from another by one alone would be
 * the same target under two names; nothing listens on port 0.
 */
export const WebhookTargetUrl = HttpUrl.refine((url) => !url.includes('#'), {
  error: 'url must have no fragment (#…): a delivery never sends it',
}).refine((url) => URL.parse(url)?.port !== '0', { error: 'url must not name port 0: nothing can be reached there' });
