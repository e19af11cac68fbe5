import type { Db } from '../store/database.js';
import { FEED_START } from '../store/feed-cursor.js';
import {
  countMilestoneCells,
  countStatusChangesAfter,
  findNotificationMark,
  readDeliveryQueue,
  readFeedLag,
  readHorizonAge,
  type DeliveryQueue,
  type FeedLag,
  type NotificationMark,
} from '../store/operational-stats.js';

/** What the database says about the service's backlog, read at each metrics scrape. */
export interface OperationalStats {
  readonly deliveries: DeliveryQueue;
  readonly feedLag: FeedLag;
  /** Undefined where pg_stat_activity cannot be read. */
  readonly horizonAgeSeconds: number | undefined;
  readonly milestoneCells: ReadonlyMap<string, number>;
  /**
   * Milestone status changes that became visible since the first sample, whoever wrote them: every
   * instance on the database counts all of them, so aggregate instances with max, not sum.
   */
  readonly statusChanges: number;
}

/** Undefined when the database could not be read (the failure is logged). */
export type SampleOperationalStats = () => Promise<OperationalStats | undefined>;

export interface StatsLogger {
  warn(details: object, message: string): void;
}

/**
 * Reads operational stats on demand. Calls made while a sample is running share it, so the gauges
 * of one scrape (prom-client collects them all at once) cost one set of queries and log one
 * failure, and the status-change count, which advances a mark, never counts anything twice.
 */
export function createOperationalStatsSampler(db: Db, logger: StatsLogger): SampleOperationalStats {
  let mark: NotificationMark | undefined;
  let statusChanges = 0;
  let running: Promise<OperationalStats | undefined> | undefined;

  async function countStatusChanges(): Promise<number> {
    // The first sample only finds where to start: counting the whole history would scan it.
    if (mark === undefined) {
      mark = (await findNotificationMark(db)) ?? FEED_START;
      return statusChanges;
    }
    const counted = await countStatusChangesAfter(db, mark);
    mark = counted.mark;
    statusChanges += counted.changes;
    return statusChanges;
  }

  async function sample(): Promise<OperationalStats> {
    const [deliveries, feedLag, horizonAgeSeconds, milestoneCells, changes] = await Promise.all([
      readDeliveryQueue(db),
      readFeedLag(db),
      // Optional: a restricted role or an embedded database may not offer pg_stat_activity.
      readHorizonAge(db).catch(() => undefined),
      countMilestoneCells(db),
      countStatusChanges(),
    ]);
    return { deliveries, feedLag, horizonAgeSeconds, milestoneCells, statusChanges: changes };
  }

  return () => {
    running ??= sample()
      .catch((err: unknown) => {
        // A scrape must answer while the database is down: its series are left out, not failed.
        logger.warn({ err }, 'operational stats unavailable; their series are left out of this scrape');
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
