import { z } from 'zod';
import { cutQuote, shownText } from './quoted.js';

/** How precisely a writer knew when something happened (SPEC §2.1). */
export const PRECISIONS = ['year', 'half', 'quarter', 'month', 'day', 'instant'] as const;
export const Precision = z.enum(PRECISIONS);
export type Precision = z.infer<typeof Precision>;

/**
 * A date as vague as the news that reported it: the text the writer gave, its precision, and the
 * half-open interval [start, end) it denotes. Calendar forms are read in UTC; an instant is an
 * empty interval (start = end).
 */
export interface FuzzyDate {
  readonly value: string;
  readonly precision: Precision;
  readonly start: Date;
  readonly end: Date;
}

const YEAR = /^(\d{4})$/;
const HALF = /^(\d{4})-H([12])$/;
const QUARTER = /^(\d{4})-Q([1-4])$/;
const MONTH = /^(\d{4})-(\d{2})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
// RFC 3339 date-time with a mandatory offset: a bare local time would be ambiguous.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

export const FUZZY_DATE_FORMS = '2026, 2026-H1, 2026-Q2, 2026-05, 2026-05-14 or an ISO-8601 date-time with offset';

/** Years the store can hold as intervals: four digits, and the end of the interval still in 9999. */
const MIN_YEAR = 1000;
const MAX_YEAR = 9998;

const utc = (year: number, monthIndex: number, day = 1): Date => new Date(Date.UTC(year, monthIndex, day));

/**
 * Every interval a date denotes lies within these instants: the years above, and a day either side,
 * where a date-time's offset may move it (1000-01-01T00:00+05:00 is in 999 in UTC).
 */
const EARLIEST_INSTANT = utc(MIN_YEAR, 0, 0);
const LATEST_INSTANT = utc(MAX_YEAR + 1, 0, 2);

/** Whether an instant lies within those: one the store holds, and PostgreSQL's timestamptz too. */
export const isWithinDates = (instant: Date): boolean => instant >= EARLIEST_INSTANT && instant < LATEST_INSTANT;

const monthsSpan = (value: string, precision: Precision, year: number, firstMonth: number, months: number): FuzzyDate => ({
  value,
  precision,
  start: utc(year, firstMonth),
  end: utc(year, firstMonth + months),
});

/**
 * Why a text is not a date: a year outside those the store holds, in a form that would otherwise do
 * (`9999`, whose end falls in 10000; until 2026-12-06 told to use a form it had, found by the probe
 * of the board), or its form.
 */
export function notADate(text: string): string {
  // A year of four digits, or of five (10000, which a four-digit reading took for 1000 and a form
  // refused: said as a form until 2026-12-06, found by the probe of every route).
  const digits = /^\d{4}(?!\d)|^\d{5}(?!\d)/.exec(text)?.[0];
  const year = digits === undefined ? undefined : Number(digits);
  // The form checked with a year the store holds; a leap one, so that a 29 February passes in any year.
  const outside = year !== undefined && (year < MIN_YEAR || year > MAX_YEAR) && parseFuzzyDate(`2000${text.slice(digits?.length ?? 0)}`) !== undefined;
  return `not a valid date: ${cutQuote(text, (shown) => `'${shownText(shown)}'`)}; ${outside ? `years run from ${MIN_YEAR} to ${MAX_YEAR}` : `expected ${FUZZY_DATE_FORMS}`}`;
}

/** Parses one of the accepted forms, or returns undefined when the text is not a valid date. */
export function parseFuzzyDate(text: string): FuzzyDate | undefined {
  const year = Number(text.slice(0, 4));
  if (!(year >= MIN_YEAR && year <= MAX_YEAR)) return undefined;
  let m: RegExpExecArray | null;
  if ((m = YEAR.exec(text))) return monthsSpan(text, 'year', Number(m[1]), 0, 12);
  if ((m = HALF.exec(text))) return monthsSpan(text, 'half', Number(m[1]), (Number(m[2]) - 1) * 6, 6);
  if ((m = QUARTER.exec(text))) return monthsSpan(text, 'quarter', Number(m[1]), (Number(m[2]) - 1) * 3, 3);
  if ((m = MONTH.exec(text))) {
    const month = Number(m[2]);
    return month >= 1 && month <= 12 ? monthsSpan(text, 'month', Number(m[1]), month - 1, 1) : undefined;
  }
  if ((m = DAY.exec(text))) {
    const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const start = utc(year, month - 1, day);
    // Date.UTC rolls 2026-02-30 over into March; a real calendar day survives the round trip.
    if (start.getUTCMonth() !== month - 1 || start.getUTCDate() !== day) return undefined;
    return { value: text, precision: 'day', start, end: utc(year, month - 1, day + 1) };
  }
  if (INSTANT.test(text)) {
    const instant = new Date(text);
    // The calendar date must exist too: Date would read 2026-02-30T10:00Z as 2 March.
    if (Number.isNaN(instant.getTime()) || parseFuzzyDate(text.slice(0, 10)) === undefined) return undefined;
    return { value: text, precision: 'instant', start: instant, end: instant };
  }
  return undefined;
}

/**
 * Request-side schema: a string in, a parsed {@link FuzzyDate} out, documented by `meta` (the
 * string's: JSON Schema of a transform's input keeps the description given after it, not its
 * examples). Give no `examples` for a query parameter (asOf, knownAt, from, to): Swagger UI would
 * fill them in and narrow every answer.
 */
export const fuzzyDateInput = (meta: { readonly description?: string; readonly examples?: string[] } = {}) =>
  z
    .string()
    .meta({ description: `A date of any precision: ${FUZZY_DATE_FORMS}.`, ...meta })
    .transform((text, ctx) => {
      const parsed = parseFuzzyDate(text);
      if (parsed) return parsed;
      ctx.issues.push({ code: 'custom', input: text, message: notADate(text) });
      return z.NEVER;
    });

export const FuzzyDateInput = fuzzyDateInput();

/** Stored-side schema: the writer's text, kept as given once it is known to parse. */
export const FuzzyDateText = z
  .string()
  .meta({ description: `A date of any precision: ${FUZZY_DATE_FORMS}.`, examples: ['2026-08'] })
  .refine((text) => parseFuzzyDate(text) !== undefined, {
    error: (issue) => notADate(String(issue.input)),
  });
