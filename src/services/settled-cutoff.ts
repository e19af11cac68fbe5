import { setTimeout as sleep } from 'node:timers/promises';
import type { Cutoff } from '../domain/cut-off.js';
import type { Db } from '../store/database.js';
import { settledBefore, type KnownHorizon } from '../store/known-horizon.js';
import { decodePinnedCursor, encodePinnedCursor } from '../store/page-cursor.js';

/**
 * How long a view waits for appends under way that recorded before its knownAt (a late batch on a
 * busy cell took 1.3–1.6 s to commit), and how often it looks.
 */
const SETTLE_WAIT_MS = 3000;
const SETTLE_POLL_MS = 20;

/**
 * The cut-off a view answers at (StatusViews.settle): a knownAt not settled yet (an append recorded
 * before it may still commit, or it is in the future) is answered at the first instant settled, so
 * that an answer about a past K never changes (store/known-horizon.ts). One per instance.
 */
export function createCutoffSettler(db: Db): (cutoff: Cutoff) => Promise<Cutoff> {
  // Settled stays settled: an append that takes its recording lock after a look records after that
  // look began. So a knownAt up to the latest instant found settled needs no look.
  let settledUpTo = new Date(0);
  // One look at a time for every request that waits: each reads the server's whole lock table.
  let looking: Promise<KnownHorizon> | undefined;
  const look = () => {
    looking ??= settledBefore(db).finally(() => {
      looking = undefined;
    });
    return looking;
  };
  return async (cutoff: Cutoff): Promise<Cutoff> => {
    const asked = cutoff.knownBefore;
    if (asked === undefined || asked <= settledUpTo) return cutoff;
    const deadline = performance.now() + SETTLE_WAIT_MS;
    for (;;) {
      const { settled, now } = await look();
      if (settled > settledUpTo) settledUpTo = settled;
      if (asked <= settledUpTo) return cutoff;
      // Appends under way recorded before a knownAt already past: they commit within moments (each
      // within its statement timeout), so wait a little for them rather than answer at an earlier
      // instant; a knownAt in the future is answered at once, at what is settled now.
      if (asked > now || performance.now() >= deadline) return { ...cutoff, knownBefore: settledUpTo };
      await sleep(SETTLE_POLL_MS);
    }
  };
}

/** A page's cut-off as settled, the list's own cursor, and how to write the next page's. */
export interface SettledPage {
  readonly cutoff: Cutoff;
  /** The list's own cursor, without the pin it came with. */
  readonly after: string | undefined;
  /** The next page's cursor, carrying the knownAt this page answered at when that was earlier than asked. */
  next(cursor: string | undefined): string | undefined;
}

/**
 * The cut-off of a page of a list (StatusViews.settlePage). A knownAt answered at an earlier instant
 * than asked (not settled yet, or in the future) puts that instant in the next page's cursor, and a
 * page asked with it is answered there, not at whatever has settled since: so the pages of one list
 * answer at one instant, for a JSON client following nextCursor as for a CSV one following the Link
 * (which names the knownAt too). The pin only ever lowers the knownAt asked, and is settled like it.
 */
export function createPageSettler(settle: (cutoff: Cutoff) => Promise<Cutoff>): (cutoff: Cutoff, after: string | undefined) => Promise<SettledPage> {
  return async (cutoff, after) => {
    const pin = after === undefined ? undefined : decodePinnedCursor(after);
    const asked = cutoff.knownBefore;
    const pinned = pin?.knownBefore !== undefined && asked !== undefined && pin.knownBefore < asked ? pin.knownBefore : asked;
    const settled = await settle({ ...cutoff, knownBefore: pinned });
    const answeredAt = settled.knownBefore;
    return {
      cutoff: settled,
      after: pin?.cursor,
      next: (cursor) => (cursor === undefined || answeredAt === undefined || asked === undefined || answeredAt >= asked ? cursor : encodePinnedCursor(answeredAt, cursor)),
    };
  };
}
