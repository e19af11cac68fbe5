import type { Migration, MigrationProvider } from 'kysely';
import * as createEventStore from './migrations/2026-11-22T10-00-00_create_event_store.js';
import * as createMilestoneCells from './migrations/2026-11-22T10-30-00_create_milestone_cells.js';
import * as createAppendEvents from './migrations/2026-11-22T11-00-00_create_append_events.js';
import * as createApiKeys from './migrations/2026-11-22T17-00-00_create_api_keys.js';
import * as createNotifications from './migrations/2026-11-22T17-30-00_create_notifications.js';
import * as createRateLimitWindows from './migrations/2026-11-22T20-00-00_create_rate_limit_windows.js';
import * as createBitemporalReadModel from './migrations/2026-12-01T15-00-00_create_bitemporal_read_model.js';
import * as keepCellEvidence from './migrations/2026-12-01T18-00-00_keep_cell_evidence.js';
import * as coverCellEvidence from './migrations/2026-12-01T18-30-00_cover_cell_evidence.js';
import * as createCellEvidence from './migrations/2026-12-01T20-00-00_create_cell_evidence.js';
import * as keepSupersededStepsApart from './migrations/2026-12-02T02-00-00_keep_superseded_steps_apart.js';
import * as vacuumTimelinesSooner from './migrations/2026-12-02T03-00-00_vacuum_timelines_sooner.js';
import * as coverCurrentStepsKnownFrom from './migrations/2026-12-02T05-00-00_cover_current_steps_known_from.js';
import * as indexCurrentStepsByWriting from './migrations/2026-12-02T18-00-00_index_current_steps_by_writing.js';
import * as keepEvidenceOnSteps from './migrations/2026-12-04T08-00-00_keep_evidence_on_steps.js';
import * as keepStepSpans from './migrations/2026-12-04T17-00-00_keep_step_spans.js';
import * as orderRegistriesByCodePoint from './migrations/2026-12-04T19-00-00_order_registries_by_code_point.js';
import * as indexTheFeedByFilter from './migrations/2026-12-04T19-30-00_index_the_feed_by_filter.js';
import * as indexTheNotificationFeedByFilter from './migrations/2026-12-04T20-00-00_index_the_notification_feed_by_filter.js';
import * as restartRetriesOnRequeue from './migrations/2026-12-05T00-00-00_restart_retries_on_requeue.js';
import * as pageConsortiumEnrolments from './migrations/2026-12-05T10-00-00_page_consortium_enrolments.js';
import * as nameTheLeaseHolder from './migrations/2026-12-06T06-00-00_name_the_lease_holder.js';
import * as orderDueDeliveries from './migrations/2026-12-06T09-00-00_order_due_deliveries.js';

/**
 * Every migration, by name. Imported statically rather than read from the folder, because a
 * native import() of .ts files fails inside vitest (research/stack.md G7).
 */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-22T10-00-00_create_event_store': createEventStore,
  '2026-11-22T10-30-00_create_milestone_cells': createMilestoneCells,
  '2026-11-22T11-00-00_create_append_events': createAppendEvents,
  '2026-11-22T17-00-00_create_api_keys': createApiKeys,
  '2026-11-22T17-30-00_create_notifications': createNotifications,
  '2026-11-22T20-00-00_create_rate_limit_windows': createRateLimitWindows,
  '2026-12-01T15-00-00_create_bitemporal_read_model': createBitemporalReadModel,
  '2026-12-01T18-00-00_keep_cell_evidence': keepCellEvidence,
  '2026-12-01T18-30-00_cover_cell_evidence': coverCellEvidence,
  '2026-12-01T20-00-00_create_cell_evidence': createCellEvidence,
  '2026-12-02T02-00-00_keep_superseded_steps_apart': keepSupersededStepsApart,
  '2026-12-02T03-00-00_vacuum_timelines_sooner': vacuumTimelinesSooner,
  '2026-12-02T05-00-00_cover_current_steps_known_from': coverCurrentStepsKnownFrom,
  '2026-12-02T18-00-00_index_current_steps_by_writing': indexCurrentStepsByWriting,
  '2026-12-04T08-00-00_keep_evidence_on_steps': keepEvidenceOnSteps,
  '2026-12-04T17-00-00_keep_step_spans': keepStepSpans,
  '2026-12-04T19-00-00_order_registries_by_code_point': orderRegistriesByCodePoint,
  '2026-12-04T19-30-00_index_the_feed_by_filter': indexTheFeedByFilter,
  '2026-12-04T20-00-00_index_the_notification_feed_by_filter': indexTheNotificationFeedByFilter,
  '2026-12-05T00-00-00_restart_retries_on_requeue': restartRetriesOnRequeue,
  '2026-12-05T10-00-00_page_consortium_enrolments': pageConsortiumEnrolments,
  '2026-12-06T06-00-00_name_the_lease_holder': nameTheLeaseHolder,
  '2026-12-06T09-00-00_order_due_deliveries': orderDueDeliveries,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
