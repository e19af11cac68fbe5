/**
 * When to try a failed delivery again (research/webhooks.md §2.4). `schedule[n - 1]` is the delay
 * in seconds after the n-th failed attempt; past its end the delivery has failed for good.
 */
export interface RetryPolicy {
  readonly schedule: readonly number[];
  /** A receiver's Retry-After is honoured up to this many seconds. */
  readonly maxRetryAfterSeconds: number;
}

/** The Standard Webhooks example: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (about 3 days). */
export const STANDARD_RETRY_SCHEDULE: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

const JITTER = 0.2;
const MIN_DELAY_SECONDS = 1;

/**
 * The delay before the attempt after `attemptNo` failed ones, with ±20% jitter so that retries of
 * one outage do not arrive together; at least what Retry-After asked for, within bounds. Undefined
 * once the schedule is exhausted.
 */
export function retryDelaySeconds(
  policy: RetryPolicy,
  attemptNo: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
): number | undefined {
  const base = policy.schedule[attemptNo - 1];
  if (base === undefined) return undefined;
  const jittered = Math.max(MIN_DELAY_SECONDS, base * (1 - JITTER + 2 * JITTER * random()));
  const asked = retryAfterSeconds === null ? 0 : Math.min(retryAfterSeconds, policy.maxRetryAfterSeconds);
  return Math.max(jittered, asked);
}

/**
 * The longest a delivery setting may wait, in seconds: a year. Waits are added to the database's
 * clock, and far enough past it (about 9e12 s) PostgreSQL refuses the sum: recording the attempt
 * failed then, its lease ran out and the delivery was sent again, without end.
 */
export const LONGEST_DELIVERY_WAIT_SECONDS = 365 * 24 * 3600;

/** Parses WEBHOOK_RETRY_SCHEDULE: comma-separated positive seconds, each at most LONGEST_DELIVERY_WAIT_SECONDS. */
export function parseRetrySchedule(text: string): number[] {
  const delays = text.split(',').map((part) => part.trim());
  if (delays.some((d) => !/^\d+(\.\d+)?$/.test(d) || Number(d) <= 0)) {
    throw new Error(`"${text}" is not a comma-separated list of positive seconds`);
  }
  const tooLong = delays.find((d) => Number(d) > LONGEST_DELIVERY_WAIT_SECONDS);
  if (tooLong !== undefined) throw new Error(`${tooLong} s is more than a year (${LONGEST_DELIVERY_WAIT_SECONDS} s), the longest a retry may wait`);
  return delays.map(Number);
}
