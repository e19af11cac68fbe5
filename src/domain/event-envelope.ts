import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { Precision, type FuzzyDate } from './fuzzy-date.js';
import type { RecordedEvent } from './recorded-event.js';
import { Source } from './source.js';
import { EXAMPLE_EVENT } from './example-events.js';

export const FuzzyDateOutput = z
  .object({
    value: z.string().meta({ description: 'The date as the writer gave it', examples: ['2026-Q2'] }),
    precision: Precision,
    start: z.iso.datetime().meta({ description: 'Start of the interval it denotes (inclusive)' }),
    end: z.iso.datetime().meta({ description: 'End of the interval (exclusive); equals start for an instant' }),
  })
  .meta({ id: 'FuzzyDate' });

export const EventMetadataOutput = z.object({
  actor: z.string().meta({ description: 'Name of the API key that recorded the event' }),
  actorKeyId: z.uuid().optional().meta({ description: 'Id of that API key' }),
  correlationId: z.string().optional(),
  causationId: z.string().optional(),
  requestId: z.string(),
});

export const EventEnvelope = z
  .object({
    id: z.uuid(),
    type: z.string(),
    schemaVersion: z.int().min(1),
    stream: z.string(),
    streamVersion: z.int().min(1),
    position: z.int().min(1).meta({ description: 'Global position: unique, increasing with append order, not gap-free', examples: [31] }),
    occurredAt: FuzzyDateOutput,
    recordedAt: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
    sources: z.array(Source),
    metadata: EventMetadataOutput,
  })
  .meta({ id: 'Event', examples: [EXAMPLE_EVENT] });
export type EventEnvelope = z.input<typeof EventEnvelope>;

type FuzzyDateOutput = z.infer<typeof FuzzyDateOutput>;

/** Dates written out recently, by their text: a few thousand distinct ones cover a busy service's answers. */
const writtenDates = new LRUCache<string, { readonly output: Readonly<FuzzyDateOutput>; readonly start: number; readonly end: number }>({ max: 10_000 });

/**
 * A date as the API writes it. The same dates come back in answer after answer (a program's due
 * dates, a timeline's months), and writing both instants of one out cost more than finding it
 * written already: its precision and interval are checked, so a date is never written with another's.
 * The output is shared between answers: frozen.
 */
export const toFuzzyDateOutput = (date: FuzzyDate): Readonly<FuzzyDateOutput> => {
  const start = date.start.getTime();
  const end = date.end.getTime();
  const written = writtenDates.get(date.value);
  if (written !== undefined && written.start === start && written.end === end && written.output.precision === date.precision) return written.output;
  const output = Object.freeze({ value: date.value, precision: date.precision, start: date.start.toISOString(), end: date.end.toISOString() });
  writtenDates.set(date.value, { output, start, end });
  return output;
};

/**
 * Field by field, not by spreading the event: a timeline page builds a hundred of these, and each
 * spread copies the object by walking its properties (with the timeline's own spread on top, a
 * tenth of the service's CPU for a page, by --cpu-prof).
 */
export function toEventEnvelope(event: RecordedEvent): EventEnvelope {
  return {
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    stream: event.stream,
    streamVersion: event.streamVersion,
    position: event.position,
    occurredAt: toFuzzyDateOutput(event.occurredAt),
    recordedAt: event.recordedAt.toISOString(),
    data: event.data,
    sources: [...event.sources],
    metadata: event.metadata,
  };
}
