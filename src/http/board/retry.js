// Reading again what could not be read: a view the service could not answer (an outage, a restart)
// is drawn once it is back, whether or not a live feed would have told of it. Only a failure that may
// pass is read again (the service away, overloaded, a timeout; not a request it refuses as such, a
// 4xx), at growing intervals. The board decides what to read and whether the view is still the one
// shown; this module holds when: one retry planned at a time, and the wait before it.
import { ApiError, NoAnswerError } from './api.js';

/** The first wait after a part of the board could not be read, doubling at each retry up to MOST_MS. */
const FIRST_MS = 5000;
const MOST_MS = 60_000;

let timer;
let wait = FIRST_MS;

/**
 * Whether reading again may succeed: no answer, a 5xx, a 408 or a 429; not a refusal of the request
 * itself (a 4xx), nor an answer the board cannot read or a fault of its own, which would come again.
 * @param {unknown} error
 */
export const isPassing = (error) => error instanceof NoAnswerError || (error instanceof ApiError && (error.status >= 500 || error.status === 408 || error.status === 429));

/**
 * Plans `action` after the next wait, in place of any retry planned; the wait after it doubles.
 * @param {() => void} action @returns {number} the wait, in milliseconds
 */
export function retryLater(action) {
  clearTimeout(timer);
  const delay = wait;
  wait = Math.min(wait * 2, MOST_MS);
  timer = setTimeout(action, delay);
  return delay;
}

/** The retry planned, if any, is dropped; the wait grown by earlier ones stays (the view may fail again). */
export const cancelRetry = () => clearTimeout(timer);

/**
 * Nothing is left to read again, or another view is asked for (which, if it cannot be read either,
 * is tried again soon, not after the wait an outage built up): no retry planned, the next waits FIRST_MS.
 */
export function resetRetry() {
  clearTimeout(timer);
  wait = FIRST_MS;
}
