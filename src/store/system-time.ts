import { sql, type RawBuilder } from 'kysely';

/**
 * The last instant a knownAt cut-off covers. recorded_at is kept to the microsecond but shown to the
 * millisecond, so a cut-off covers its whole millisecond: passing an event's recordedAt as knownAt
 * includes that event.
 */
export const knownThrough = (knownAt: Date): RawBuilder<Date> => sql<Date>`(${knownAt}::timestamptz + interval '999 microseconds')`;
