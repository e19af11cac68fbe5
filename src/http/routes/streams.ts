import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StreamName } from '../../domain/identifiers.js';
import { MAX_STREAM_VERSION } from '../../domain/proposed-event.js';
import type { EventReader } from '../../services/read-events.js';
import { ProblemDetails } from '../problem.js';
import { EventEnvelope, toEventEnvelope } from '../../domain/event-envelope.js';
import { decimalInteger } from '../schemas/decimal-integer.js';

export interface StreamRoutesOptions {
  readonly reader: EventReader;
  readonly maxPageSize: number;
}

export const streamRoutes: FastifyPluginAsyncZod<StreamRoutesOptions> = async (app, { reader, maxPageSize }) => {
  app.get(
    '/v1/streams/:stream/events',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['events'],
        operationId: 'readStream',
        summary: "One stream's events in stream order, and its current version (0 when it has none)",
        params: z.object({ stream: StreamName }),
        querystring: z.object({
          fromVersion: decimalInteger(1, MAX_STREAM_VERSION, 1),
          limit: decimalInteger(1, maxPageSize, 100),
        }),
        response: {
          200: z.object({
            stream: z.string(),
            version: z.int().min(0).meta({ description: 'Current version of the stream: pass it as expectedVersion' }),
            events: z.array(EventEnvelope),
            nextVersion: z.int().min(1).optional().meta({ description: 'fromVersion of the next page, when there is one' }),
          }),
          400: ProblemDetails,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { fromVersion, limit } = request.query;
      const page = await reader.pageStream(stream, fromVersion, limit);
      const last = page.events.at(-1);
      const more = last !== undefined && last.streamVersion < page.version;
      return {
        stream,
        version: page.version,
        events: page.events.map(toEventEnvelope),
        ...(more && { nextVersion: last.streamVersion + 1 }),
      };
    },
  );
};
