import { z } from 'zod';
import { EVENT_TYPE_NAMES } from './event-catalogue.js';
import { closestIds } from './near-miss.js';
import type { RecordedEvent } from './recorded-event.js';
import { quoted } from './quoted.js';

/** Emitted whenever a milestone cell's status changes, whatever changed it (SPEC §6). */
export const STATUS_CHANGED = 'milestone.status_changed';
/** A ping sent by hand to one subscription; never in the feed. */
export const TEST_PING = 'webhook.test';

const TYPE_PREFIXES = [...new Set(EVENT_TYPE_NAMES.map((type) => type.split('.')[0] ?? type))];

/**
 * A topic a subscription or the feed can ask for: an event type, `<prefix>.*` (e.g. `pilot.*`),
 * `*` (everything), or milestone.status_changed. `milestone.*` also matches status changes.
 */
export const Topic = z
  .string()
  .refine(
    (topic) =>
      topic === '*' ||
      topic === STATUS_CHANGED ||
      EVENT_TYPE_NAMES.some((type) => type === topic) ||
      TYPE_PREFIXES.some((prefix) => topic === `${prefix}.*`),
    { error: (issue) => `unknown topic ${quoted(issue.input)}: ${didYouMean(issue.input)}` },
  )
  .meta({ examples: ['pilot.*', 'mou.signed', STATUS_CHANGED, '*'] });

/** Every topic but `*` a subscription or the feed may name, for a "did you mean". */
const NAMED_TOPICS: readonly string[] = [...EVENT_TYPE_NAMES, STATUS_CHANGED, ...TYPE_PREFIXES.map((prefix) => `${prefix}.*`)];

/** What to use instead of an unknown topic: the known ones a few edits from it first, if any. */
function didYouMean(input: unknown): string {
  const near = typeof input === 'string' ? closestIds(input, NAMED_TOPICS) : [];
  const rule = `an event type, <prefix>.*, * or ${STATUS_CHANGED}`;
  return near.length === 0 ? `use ${rule}` : `did you mean ${near.map((topic) => JSON.stringify(topic)).join(' or ')}? A topic is ${rule}`;
}

/** The same rule as fan_out_notifications() in the notifications migration. */
export function topicMatches(pattern: string, topic: string): boolean {
  return pattern === '*' || pattern === topic || (pattern.endsWith('.*') && topic.startsWith(pattern.slice(0, -1)));
}

/** Every topic a notification in the feed can have: each event type, and status changes. */
const FEED_TOPICS: readonly string[] = [...EVENT_TYPE_NAMES, STATUS_CHANGED];

/** The topics some pattern matches (topicMatches); undefined when they are every topic. */
export function topicsMatching(patterns: readonly string[]): readonly string[] | undefined {
  const topics = FEED_TOPICS.filter((topic) => patterns.some((pattern) => topicMatches(pattern, topic)));
  return topics.length === FEED_TOPICS.length ? undefined : topics;
}

export interface Notification {
  readonly id: string;
  readonly position: number;
  readonly topic: string;
  readonly createdAt: Date;
  /** For an event's own notification: the event. */
  readonly event: RecordedEvent | undefined;
  /** For a status change or a ping: its data. */
  readonly data: Readonly<Record<string, unknown>> | undefined;
}
