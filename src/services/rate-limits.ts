import type { Db } from '../store/database.js';
import { countRequests, type WindowCount } from '../store/rate-limit-windows.js';

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
 * The most keys one counting statement counts. The keys waiting for a statement go together, in the
 * order they came: one statement a key, two at a time, 300 quiet keys at four requests a second
 * each waited their turn up to 370 ms at the 99th percentile, and at full speed 1.5 s (found by the
 * probe of shutdown and quiet keys).
 */
const MAX_KEYS_PER_COUNT = 500;
/**
 * After a count fails (a lock not granted within the counter's lock timeout, the database away),
 * the requests that need a count in the next this many milliseconds go through uncounted without
 * trying, rather than each waiting its turn to fail in the same way.
 */
const FAILING_MS = 1_000;

/** A request let through uncounted while its counter was failing (the limiter's skipOnError), and said. */
export class CounterFailingError extends Error {
  /** `cause`: the failure that began the window, so that the log says why (the review). */
  constructor(options: { cause: unknown }) {
    super(`counting a request failed within the last ${FAILING_MS} ms: this one goes through uncounted`, options);
  }
}

/** A count waiting for a counting statement. */
interface WaitingCount {
  readonly bucket: string;
  readonly take: number;
  readonly windowMs: number;
  resolve(count: WindowCount): void;
  reject(error: unknown): void;
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
  /** Counts waiting for a statement, in the order they came; each key has at most one (`pending`). */
  const waiting: WaitingCount[] = [];
  let failingUntil = -Infinity;
  let lastFailure: unknown;

  /**
   * Runs counting statements while fewer than MAX_COUNTING run and counts wait: each takes the
   * waiting counts of the first one's window, up to MAX_KEYS_PER_COUNT. Called whenever a count
   * comes or a statement ends, so that no count waits while a place is free. No deadline on the wait
   * itself: a wait is for a place among the counting statements, and a burst of one key's requests,
   * or a pool busy with their look-ups, must still be counted (a first version let through every
   * request not counted within 500 ms, and a burst of 300 requests of one key went through a limit
   * of 3; found by the review of it).
   */
  const pump = (): void => {
    for (let first = waiting[0]; counting < MAX_COUNTING && first !== undefined; first = waiting[0]) {
      const { windowMs } = first;
      const batch: WaitingCount[] = [];
      for (let i = 0; i < waiting.length && batch.length < MAX_KEYS_PER_COUNT; ) {
        const count = waiting[i];
        if (count !== undefined && count.windowMs === windowMs) {
          batch.push(count);
          waiting.splice(i, 1);
        } else i += 1;
      }
      counting += 1;
      void run(batch, windowMs).finally(() => {
        counting -= 1;
        pump();
      });
    }
  };

  /** One counting statement for a batch; while the counter has been failing, none: the batch goes through uncounted. */
  const run = async (batch: readonly WaitingCount[], windowMs: number): Promise<void> => {
    const failAll = (error: unknown) => {
      for (const count of batch) count.reject(error);
    };
    if (performance.now() < failingUntil) return failAll(new CounterFailingError({ cause: lastFailure }));
    try {
      const counts = await countRequests(db, batch, windowMs);
      for (const count of batch) {
        const counted = counts.get(count.bucket);
        if (counted === undefined) count.reject(new Error(`no count came back for ${count.bucket}`));
        else count.resolve(counted);
      }
    } catch (error) {
      failingUntil = performance.now() + FAILING_MS;
      lastFailure = error;
      failAll(error);
    }
  };

  /** A count of `take` requests of a bucket, run in the next statement that has room for it. */
  const counted = (bucket: string, take: number, windowMs: number): Promise<WindowCount> =>
    new Promise((resolve, reject) => {
      waiting.push({ bucket, take, windowMs, resolve, reject });
      pump();
    });

  const lease = async (keyId: string, windowMs: number): Promise<void> => {
    const previous = leases.get(keyId);
    const now = performance.now();
    const busy = previous !== undefined && previous.used >= previous.granted && now - previous.startedAt < 1000;
    const take = busy ? Math.min(previous.take * 2, MAX_LEASE) : 1;
    const { hits, msLeft } = await counted(`key:${keyId}`, take, windowMs);
    const base = hits - take;
    leases.set(keyId, { base, granted: Math.max(0, Math.min(take, max - base)), used: 0, take, endsAt: now + msLeft, startedAt: now });
    if (leases.size > PRUNE_ABOVE) for (const [id, ended] of leases) if (ended.endsAt <= now) leases.delete(id);
  };

  return async function countKeyRequest(keyId, windowMs) {
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
      await inFlight;
    }
  };
}
