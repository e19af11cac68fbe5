/*
 * A receiver's Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, which a recipient
 * must accept in all three of its forms (§5.6.7), though senders should send only the first:
 * IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 * RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 * asctime      "Sun Nov  6 08:49:37 1994"
 * Until 2026-12-06 only the first was read, and a receiver asking in the second for ten minutes'
 * rest was tried again every few seconds until its delivery failed (found by the probe of dates).
 * Date.parse alone accepts far too much ("Test 1" is a date to V8), so each form is matched whole.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * A moment from its parts, or null if they name none (31 Feb, 25:00). A leap second (23:59:60,
 * which the grammar allows) is the moment after 23:59:59, as JavaScript's clock has none.
 */
function utc(year: number, month: string, day: string, hours: string, minutes: string, seconds: string): number | null {
  const leap = seconds === '60' && hours === '23' && minutes === '59';
  const second = leap ? 59 : Number(seconds);
  const monthIndex = MONTHS.indexOf(month);
  const at = new Date(Date.UTC(year, monthIndex, Number(day), Number(hours), Number(minutes), second));
  // Date.UTC reads a year below 100 as 19xx: no HTTP-date names one, and the check refuses it.
  const exact =
    at.getUTCFullYear() === year &&
    at.getUTCMonth() === monthIndex &&
    at.getUTCDate() === Number(day) &&
    at.getUTCHours() === Number(hours) &&
    at.getUTCMinutes() === Number(minutes) &&
    at.getUTCSeconds() === second;
  return exact ? at.getTime() + (leap ? 1000 : 0) : null;
}

/**
 * RFC 9110 §5.6.7: a two-digit year whose moment appears more than 50 years in the future is the
 * latest past year with those digits. Judged by the moment, not the year alone.
 */
function rfc850Moment(twoDigits: number, parts: readonly [string, string, string, string, string], now: number): number | null {
  const [month, day, hours, minutes, seconds] = parts;
  const thisYear = new Date(now).getUTCFullYear();
  const year = thisYear - (thisYear % 100) + twoDigits;
  const at = utc(year, month, day, hours, minutes, seconds);
  const fiftyYearsOn = new Date(now);
  fiftyYearsOn.setUTCFullYear(thisYear + 50);
  return at !== null && at > fiftyYearsOn.getTime() ? utc(year - 100, month, day, hours, minutes, seconds) : at;
}

/** An HTTP-date in any of its three forms as milliseconds since the epoch, or null. */
export function parseHttpDate(text: string, now: number): number | null {
  const imf = IMF_FIXDATE.exec(text);
  if (imf !== null) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = imf;
    return utc(Number(year), month, day, h, m, s);
  }
  const rfc850 = RFC_850.exec(text);
  if (rfc850 !== null) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = rfc850;
    return rfc850Moment(Number(year), [month, day, h, m, s], now);
  }
  const asctime = ASCTIME.exec(text);
  if (asctime !== null) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = asctime;
    return utc(Number(year), month, day.trim(), h, m, s);
  }
  return null;
}

/** Retry-After as whole seconds from `now`: a moment past is 0, junk is null. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  const text = value?.trim() ?? '';
  if (/^-?\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? Math.max(0, seconds) : null;
  }
  const at = parseHttpDate(text, now);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
