import { z } from 'zod';
import { EVENT_TYPE_NAMES } from './event-catalogue.js';
import { EventEnvelope, FuzzyDateOutput, toEventEnvelope } from './event-envelope.js';
import { MilestoneStatus } from './milestone-status.js';
import { STATUS_CHANGED, TEST_PING, type Notification } from './notification.js';

/*
 * What subscribers receive, on the webhook and in the feed: Standard Webhooks' `type`, `timestamp`
 * and `data`, with the stable `id` (also the webhook-id header) and `sequence`, which grows with
 * commit order, so a consumer can tell a stale message. The schemas are what the OpenAPI document
 * publishes (its `webhooks`); the test suite checks every message a test receives against them.
 */

/** The members every message has; `timestamp` says of each kind what moment it is. */
const messageFields = (timestamp: string) => ({
  id: z.string().meta({
    description: 'The message id, also sent as the webhook-id header: the same on every retry and redelivery, so a receiver can drop a duplicate',
    examples: ['msg_0193a5b2c4d87e1f9a0b1c2d3e4f5a6b'],
  }),
  timestamp: z.iso.datetime().meta({ description: timestamp }),
  sequence: z.int().min(1).meta({
    description:
      'Grows in the order notifications were written (not gap-free): within a stream, and for one cell\'s status changes, the order they were committed in, ' +
      'so a receiver can drop a status change older than one it has handled. Across streams, messages may commit, and arrive, out of this order.',
  }),
});

export const EventMessage = z
  .object({
    ...messageFields("The event's recordedAt"),
    type: z.enum(EVENT_TYPE_NAMES).meta({ description: "The event's type, which the subscription's topics matched" }),
    data: EventEnvelope,
  })
  .meta({ id: 'EventMessage', description: 'An event was recorded. `data` is the event, as GET /v1/events/{id} answers it.' });

/** Version 2 of a status change's data, written by db/functions/notify_status_change.sql. */
export const StatusChange = z
  .object({
    // An integer, as every version in the document is (a literal is written as a number).
    schemaVersion: z.literal(2).meta({ type: 'integer' }),
    programId: z.string(),
    programName: z.string(),
    milestone: z.string(),
    milestoneTitle: z.string(),
    consortiumId: z.string().optional().meta({ description: "The consortium whose cell changed; absent for a program-wide milestone's cell" }),
    consortiumName: z.string().optional(),
    from: MilestoneStatus,
    to: MilestoneStatus,
    since: FuzzyDateOutput.meta({ description: 'Since when the cell has its new status: the world-time date of the event that set it' }),
    certain: z.boolean().meta({ description: 'Whether the event that set the new status had certainly happened when the change was recorded (its interval had ended)' }),
    causedBy: z.uuid().meta({ description: 'The event recorded with the change that set the new status, or else that bears most closely on the cell (a retraction, an elimination)' }),
  })
  .meta({ id: 'StatusChange' });

/** A status change stored before issue 11, sent as it was stored: ids only, marked version 1. */
export const StatusChangeV1 = z
  .object({
    schemaVersion: z.literal(1).meta({ type: 'integer' }),
    programId: z.string(),
    milestone: z.string(),
    consortiumId: z.string().optional(),
    from: MilestoneStatus,
    to: MilestoneStatus,
    causedBy: z.uuid(),
  })
  .meta({ id: 'StatusChangeV1' });

export const StatusChangedMessage = z
  .object({
    ...messageFields("When the change was recorded: its cause's recordedAt, so that a view asked knownAt this instant shows the change"),
    type: z.literal(STATUS_CHANGED),
    data: z.discriminatedUnion('schemaVersion', [StatusChange, StatusChangeV1]),
  })
  .meta({
    id: 'StatusChangedMessage',
    description:
      "A milestone cell's status changed, whatever changed it: a new fact, a late backfill, a retraction, an elimination, a reschedule. " +
      '`data.schemaVersion` is 2 for every change recorded by this release; 1 marks one stored by an earlier release, with ids only.',
  });

export const TestPingMessage = z
  .object({
    ...messageFields('When the ping was asked for'),
    type: z.literal(TEST_PING),
    data: z.object({ subscriptionId: z.uuid(), message: z.literal('ping') }),
  })
  .meta({ id: 'TestPingMessage', description: 'A ping sent by hand (POST /v1/subscriptions/{id}/test) to this subscription alone; never in the feed.' });

export interface NotificationMessage {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly sequence: number;
  readonly data: unknown;
}

/** The webhook-id: stable across retries and redeliveries; Standard Webhooks forbids dots in it. */
export const messageIdOf = (notificationId: string): string => `msg_${notificationId.replaceAll('-', '')}`;

export function toNotificationMessage(notification: Notification): NotificationMessage {
  return {
    id: messageIdOf(notification.id),
    type: notification.topic,
    timestamp: (notification.event?.recordedAt ?? notification.createdAt).toISOString(),
    sequence: notification.position,
    data: notification.event === undefined ? labelVersion(notification.topic, notification.data ?? {}) : toEventEnvelope(notification.event),
  };
}

/**
 * A status change's data says which version of its schema it follows: 2 (with names, since and
 * certain) is written by notify_status_change() since issue 11; rows stored before carry ids only
 * and no version, and are sent as they were, marked version 1, so a subscriber can tell them apart.
 */
function labelVersion(topic: string, data: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (topic !== STATUS_CHANGED || 'schemaVersion' in data) return data;
  return { schemaVersion: 1, ...data };
}
