import { isEventType, infoOf } from './event-catalogue.js';
import type { FuzzyDate } from './fuzzy-date.js';
import type { RecordedEvent } from './recorded-event.js';
import type { Source } from './source.js';

/** An event shown as evidence of a cell's status: what, when, and where it was reported (SPEC §4). */
export interface EvidenceEntry {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: FuzzyDate;
  readonly title: string;
  readonly sources: readonly Source[];
}

const MAX_TITLE = 160;

/**
 * A short title: the event's own (an MOU's, a seminar's), else what it names (a model), else the
 * catalogue's summary of its type with its subject.
 */
export function shortTitle(event: RecordedEvent): string {
  const { title, model, consortiumId, milestone } = event.data;
  if (typeof title === 'string') return title.slice(0, MAX_TITLE);
  const summary = isEventType(event.type) ? infoOf(event.type).summary.replace(/\.$/, '') : event.type;
  const about = [typeof model === 'string' ? model : undefined, typeof consortiumId === 'string' ? consortiumId : undefined, typeof milestone === 'string' ? milestone : undefined]
    .filter((part) => part !== undefined)
    .join(', ');
  return (about === '' ? summary : `${summary} (${about})`).slice(0, MAX_TITLE);
}

export const toEvidenceEntry = (event: RecordedEvent): EvidenceEntry => ({
  id: event.id,
  type: event.type,
  occurredAt: event.occurredAt,
  title: shortTitle(event),
  sources: event.sources,
});
