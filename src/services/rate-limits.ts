import type { Db } from '../store/database.js';
import { countRequest, type WindowCount } from '../store/rate-limit-windows.js';

export type { WindowCount };

/** Counts a key's requests: the count of this one in its window, and the milliseconds the window has left. */
export type CountKeyRequest = (keyId: string, windowMs: number) => Promise<WindowCount>;

/** The most requests one instance counts for a key in one statement. */
const MAX_LEASE = 64;
/** Keys whose leases are kept before the ended ones are dropped: a bound on the map, not a cache size. */
const PRUNE_ABOVE = 10_000;
/**
 * Counting statements one instance runs at once. A counter table that stops answering (a lock held
 * on it, a vacuum full) then holds this many connections of the pool, not one per busy key: with a
 * statement waiting per key, ten keys took the whole pool, and every request, /readyz included,
 * waited for the lock (found by the probe of access under load).
 */
const MAX_COUNTING = 2;
/**
 * How long a request waits to be counted before it goes through uncounted, as one whose count
 * failed: long enough that a database merely busy still counts every request (500 ms let through
 * every request of an instance whose counts came back half a second late), short enough that a
 * counter table that does not answer delays requests seconds, not the statement timeout.
 */
export const COUNT_WAIT_MS = 2_000;

/** A request not counted within COUNT_WAIT_MS: let through (the limiter's skipOnError), and said. */
export class CountTooSlowError extends Error {
  constructor() {
    super(`the request could not be counted against its key's rate limit within ${COUNT_WAIT_MS} ms`);
  }
}

interface Lease {
  /** The shared count of the first request this lease may serve, less one. */
  readonly base: number;
  /** Requests the lease may serve: the shared count had room for them. */
  readonly granted: number;
  used: number;
  /** How many the next lease takes: more while the key is busy, one when it is quiet. */
  readonly take: number;
  /**
   * When the shared window ends, on this process's monotonic clock (performance.now()), counted from
   * before the statement was sent: the database measured the time left when the statement began, so
   * the lease never outlives the window it was taken from.
   */
  readonly endsAt: number;
  readonly startedAt: number;
}

/**
 * Counts each key's requests in the window shared by every instance on the database, without a
 * statement per request: an instance takes a lease of several counts at once (one when the key is
 * quiet, doubling up to MAX_LEASE while it is busy) and serves requests from it. The shared count
 * is never exceeded: a lease holds only the counts that fit under `max`. What one instance leased
 * but did not use before the window ended is lost to the others, at most MAX_LEASE - 1 per instance
 * and window; a quiet key leases one count at a time, as if every request were counted on its own.
 */
export function createKeyRequestCounter(db: Db, max: number): CountKeyRequest {
  const leases = new Map<string, Lease>();
  const pending = new Map<string, Promise<void>>();
  let counting = 0;
  const waiting: (() => void)[] = [];
  /** Runs `count` once fewer than MAX_COUNTING statements run: leases queue here, a request waits for its own at most COUNT_WAIT_MS. */
  const bounded = async <T>(count: () => Promise<T>): Promise<T> => {
    if (counting >= MAX_COUNTING) await new Promise<void>((resolve) => waiting.push(resolve));
    counting += 1;
    try {
      return await count();
    } finally {
      counting -= 1;
      waiting.shift()?.();
    }
  };

  const lease = async (keyId: string, windowMs: number): Promise<void> => {
    const previous = leases.get(keyId);
    const now = performance.now();
    const busy = previous !== undefined && previous.used >= previous.granted && now - previous.startedAt < 1000;
    const take = busy ? Math.min(previous.take * 2, MAX_LEASE) : 1;
    const { hits, msLeft } = await bounded(() => countRequest(db, `key:${keyId}`, windowMs, take));
    const base = hits - take;
    leases.set(keyId, { base, granted: Math.max(0, Math.min(take, max - base)), used: 0, take, endsAt: now + msLeft, startedAt: now });
    if (leases.size > PRUNE_ABOVE) for (const [id, ended] of leases) if (ended.endsAt <= now) leases.delete(id);
  };

  return async function countKeyRequest(keyId, windowMs) {
    const deadline = performance.now() + COUNT_WAIT_MS;
    for (;;) {
      const current = leases.get(keyId);
      const now = performance.now();
      if (current !== undefined && now < current.endsAt) {
        const msLeft = Math.ceil(current.endsAt - now);
        if (current.used < current.granted) {
          current.used += 1;
          return { hits: current.base + current.used, msLeft };
        }
        // The shared count is full for this window: no need to ask again until it ends.
        if (current.base + current.granted >= max) return { hits: max + 1, msLeft };
      }
      // One lease at a time per key: requests arriving meanwhile wait for it, then serve from it.
      const inFlight = pending.get(keyId) ?? lease(keyId, windowMs).finally(() => pending.delete(keyId));
      pending.set(keyId, inFlight);
      // The lease goes on after a request stops waiting for it: the key's next requests serve from it.
      await within(inFlight, deadline - performance.now());
    }
  };
}

/** `promise`, or CountTooSlowError once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CountTooSlowError()), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
