import { isEventType, infoOf } from './event-catalogue.js';
import type { FuzzyDate } from './fuzzy-date.js';
import { dataText, type RecordedEvent } from './recorded-event.js';
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

/** At most MAX_TITLE UTF-16 units, never half of a character: JSON would carry a lone surrogate, which strict decoders refuse. */
const cut = (text: string): string => {
  if (text.length <= MAX_TITLE) return text;
  const last = text.charCodeAt(MAX_TITLE - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_TITLE - 1 : MAX_TITLE);
};

/** The event's own title (an MOU's, a seminar's) or the name it registers (a program's, a consortium's), whole. */
export const ownTitle = (event: RecordedEvent): string | undefined => dataText(event, 'title') ?? dataText(event, 'name');

/**
 * A short title: the event's own (ownTitle), else what it names (a model), else the catalogue's
 * summary of its type with its subject.
 */
export function shortTitle(event: RecordedEvent): string {
  const own = ownTitle(event);
  if (own !== undefined) return cut(own);
  const summary = isEventType(event.type) ? infoOf(event.type).summary.replace(/\.$/, '') : event.type;
  const about = ['model', 'consortiumId', 'milestone']
    .map((field) => dataText(event, field))
    .filter((part) => part !== undefined)
    .join(', ');
  return cut(about === '' ? summary : `${summary} (${about})`);
}

export const toEvidenceEntry = (event: RecordedEvent): EvidenceEntry => ({
  id: event.id,
  type: event.type,
  occurredAt: event.occurredAt,
  title: shortTitle(event),
  sources: event.sources,
});
