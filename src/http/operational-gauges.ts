import { Counter, Gauge, type Registry } from 'prom-client';
import { MILESTONE_STATUSES } from '../domain/milestone-status.js';
import type { OperationalStats, SampleOperationalStats } from '../services/operational-stats.js';

/**
 * Registers the series read from the database at scrape time. When the database cannot be read,
 * ml_operational_stats_up is 0 and the other gauges are left out of the scrape rather than
 * reporting a stale or zero backlog; the status-change counter keeps its value.
 */
export function registerOperationalGauges(registry: Registry, sample: SampleOperationalStats): void {
  const registers = [registry];

  const up = new Gauge({
    name: 'ml_operational_stats_up',
    help: '1 if this scrape read the database-backed series below, 0 if the database could not be read',
    registers,
    collect: async () => {
      up.set((await sample()) === undefined ? 0 : 1);
    },
  });

  /** A gauge of one value per label from the sample, emptied when the sample has none. */
  const labelledGauge = (name: string, help: string, label: string, pick: (stats: OperationalStats) => ReadonlyArray<readonly [string, number]>) => {
    const gauge: Gauge = new Gauge({
      name,
      help,
      labelNames: [label],
      registers,
      collect: async () => {
        const stats = await sample();
        gauge.reset();
        if (stats === undefined) return;
        for (const [value, count] of pick(stats)) gauge.set({ [label]: value }, count);
      },
    });
  };

  labelledGauge(
    'ml_webhook_queue_depth',
    'Webhook deliveries by state: pending (waiting, due or scheduled), in_flight (leased by a worker), failed (given up on)',
    'state',
    ({ deliveries }) => [
      ['pending', deliveries.pending],
      ['in_flight', deliveries.inFlight],
      ['failed', deliveries.failed],
    ],
  );

  /** A gauge of one value from the sample, left out of the scrape when the sample has none. */
  const sampledGauge = (name: string, help: string, pick: (stats: OperationalStats) => number | undefined) => {
    const gauge: Gauge = new Gauge({
      name,
      help,
      registers,
      collect: async () => {
        const stats = await sample();
        const value = stats === undefined ? undefined : pick(stats);
        if (value === undefined) gauge.remove();
        else gauge.set(value);
      },
    });
  };

  sampledGauge(
    'ml_webhook_oldest_due_seconds',
    'How long the longest-waiting due delivery of an active subscription has been due; 0 if none is',
    (stats) => stats.deliveries.oldestDueSeconds,
  );
  sampledGauge(
    'ml_feed_lag_events',
    'Committed events that GET /v1/events cannot return yet, because an older transaction is still running',
    (stats) => stats.feedLag.heldBackEvents,
  );
  sampledGauge(
    'ml_feed_lag_seconds',
    'How long the oldest event held back from GET /v1/events has been recorded; 0 if none is held back',
    (stats) => stats.feedLag.oldestHeldBackSeconds,
  );
  sampledGauge(
    'ml_feed_horizon_age_seconds',
    'How long the transaction holding the feed horizon back (the oldest running one of this database that may still add to the feed) has run; 0 if none',
    (stats) => stats.horizonAgeSeconds,
  );

  labelledGauge('ml_milestone_cells', 'Milestone cells in the status projection, by status', 'status', ({ milestoneCells }) =>
    MILESTONE_STATUSES.map((status) => [status, milestoneCells.get(status) ?? 0] as const),
  );

  let counted = 0;
  const statusChanges = new Counter({
    name: 'ml_status_changes_total',
    help: 'Milestone status changes committed by any instance since this one first served /metrics (aggregate instances with max)',
    registers,
    collect: async () => {
      const total = (await sample())?.statusChanges;
      if (total === undefined || total <= counted) return;
      statusChanges.inc(total - counted);
      counted = total;
    },
  });
}
