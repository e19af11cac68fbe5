import { z } from 'zod';
import { EVENT_DATA_SCHEMAS, EVENT_TYPE_NAMES, type EventType } from './event-catalogue.js';
import { FuzzyDateInput } from './fuzzy-date.js';
import { SafeText } from './safe-text.js';
import { Source } from './source.js';
import { quoted } from './quoted.js';
import { EXAMPLE_MOU_SIGNED, EXAMPLE_PILOT_STARTED } from './example-events.js';

/** Stream versions are 32-bit in the store. */
export const MAX_STREAM_VERSION = 2_147_483_647;

export const MAX_SOURCES = 20;

const proposalFields = {
  occurredAt: FuzzyDateInput,
  sources: z.array(Source).max(MAX_SOURCES).optional(),
  expectedVersion: z
    .int()
    .min(0)
    .max(MAX_STREAM_VERSION)
    .optional()
    .meta({ description: 'The stream version the writer believes current; 0 means the stream must not exist yet.' }),
  correlationId: SafeText.min(1).max(200).optional(),
  causationId: SafeText.min(1).max(200).optional(),
};

function unknownTypeMessage(input: unknown): string {
  const type = typeof input === 'object' && input !== null && 'type' in input ? input.type : undefined;
  const known = `known types: ${EVENT_TYPE_NAMES.join(', ')}`;
  return type === undefined ? `type is required; ${known}` : `unknown event type ${quoted(type)}; ${known}`;
}

const proposal = <T extends EventType>(type: T) =>
  z.strictObject({ type: z.literal(type), data: EVENT_DATA_SCHEMAS[type], ...proposalFields });

/** One event as a writer proposes it: the server adds id, stream, versions, position and metadata. */
export const ProposedEvent = z
  .discriminatedUnion(
    'type',
    [
      proposal('program.registered'),
      proposal('milestone.planned'),
      proposal('milestone.rescheduled'),
      proposal('consortium.registered'),
      proposal('consortium.enrolled'),
      proposal('consortium.eliminated'),
      proposal('mou.signed'),
      proposal('seminar.held'),
      proposal('pilot.started'),
      proposal('pilot.completed'),
      proposal('model.announced'),
      proposal('evaluation.held'),
      proposal('milestone.started'),
      proposal('milestone.achieved'),
      proposal('milestone.missed'),
      proposal('milestone.cancelled'),
      z.strictObject({
        type: z.literal('event.retracted'),
        data: EVENT_DATA_SCHEMAS['event.retracted'],
        ...proposalFields,
        occurredAt: FuzzyDateInput.optional().meta({ description: 'When the correction was made; defaults to recordedAt' }),
      }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? unknownTypeMessage(issue.input) : undefined) },
  )
  // zod leaves `examples` out of an input schema that transforms (they would describe its output);
  // `example` it keeps, and Swagger UI shows it instead of a sample of each of the 17 types.
  .meta({ id: 'ProposedEvent', example: EXAMPLE_MOU_SIGNED });
export type ProposedEvent = z.output<typeof ProposedEvent>;

// Compile-time guard: the union above names every type of the catalogue.
const everyTypeIsProposable: [Exclude<EventType, ProposedEvent['type']>] extends [never] ? true : false = true;
void everyTypeIsProposable;

export const MAX_BATCH = 1000;

export const ProposedEventBatch = z
  .strictObject({ events: z.array(ProposedEvent).min(1).max(MAX_BATCH) })
  .meta({ id: 'ProposedEventBatch', example: { events: [EXAMPLE_MOU_SIGNED, EXAMPLE_PILOT_STARTED] } });
