import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENT_DATA_SCHEMAS, EVENT_TYPE_NAMES, EVENT_TYPES, type EventTypeInfo } from '../../domain/event-catalogue.js';
import { MilestoneStatus } from '../../domain/milestone-status.js';
import { PAST_VERSIONS } from '../../domain/upcasting.js';

const EventTypeDescription = z
  .object({
    type: z.string(),
    schemaVersion: z.int().min(1),
    kind: z.enum(['reference', 'fact', 'correction']),
    summary: z.string(),
    effect: MilestoneStatus.optional().meta({ description: 'The status a fact gives the milestone it names' }),
    dataSchema: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema (draft 2020-12) of `data`, current version' }),
    pastVersions: z
      .array(z.object({ schemaVersion: z.int().min(1), dataSchema: z.record(z.string(), z.unknown()) }))
      .meta({ description: 'Earlier released versions of `data`: events stored with them are upcast to the current one on read' }),
  })
  .meta({ id: 'EventType' });

// Computed once: the catalogue is fixed for the life of the process.
const CATALOGUE = EVENT_TYPE_NAMES.map((type) => {
  const info: EventTypeInfo = EVENT_TYPES[type];
  return {
    type,
    schemaVersion: info.schemaVersion,
    kind: info.kind,
    summary: info.summary,
    ...(info.effect !== undefined && { effect: info.effect }),
    dataSchema: z.toJSONSchema(EVENT_DATA_SCHEMAS[type], { io: 'input', unrepresentable: 'any' }),
    pastVersions: (PAST_VERSIONS[type] ?? []).map((past) => ({
      schemaVersion: past.version,
      dataSchema: z.toJSONSchema(past.schema, { io: 'input', unrepresentable: 'any' }),
    })),
  };
});

export const eventTypeRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/event-types',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['events'],
        operationId: 'listEventTypes',
        summary: 'The event catalogue: every type with the JSON Schema of its data',
        response: { 200: z.object({ eventTypes: z.array(EventTypeDescription) }) },
      },
    },
    async () => ({ eventTypes: CATALOGUE }),
  );
};
