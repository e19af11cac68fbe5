import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../../domain/event-catalogue.js';
import { ConsortiumId, ProgramId, StreamName } from '../../domain/identifiers.js';
import { ProposedEvent, ProposedEventBatch } from '../../domain/proposed-event.js';
import { quoted } from '../../domain/quoted.js';
import type { EventRecorder, RecordOutcome } from '../../services/record-events.js';
import type { EventReader } from '../../services/read-events.js';
import { ProblemDetails } from '../problem.js';
import { ById } from '../schemas/by-id.js';
import { commaList } from '../schemas/comma-list.js';
import { principalOf } from '../route-access.js';
import { refuseRepeated } from '../sole-header.js';
import { EventEnvelope, toEventEnvelope } from '../../domain/event-envelope.js';
import { decimalInteger } from '../schemas/decimal-integer.js';

export interface EventRoutesOptions {
  readonly reader: EventReader;
  readonly recorder: EventRecorder;
  /** Body limit for appends: a batch of 1000 events is far larger than any other request. */
  readonly appendBodyLimit: number;
  readonly maxPageSize: number;
  /** Hears what each append stored (metrics). */
  readonly onRecorded?: (outcome: RecordOutcome) => void;
}

const TAGS = ['events'];

const EventList = z.object({ events: z.array(EventEnvelope) }).meta({ id: 'EventList' });

const TypeList = commaList(z.enum(EVENT_TYPE_NAMES, { error: (i) => `unknown event type ${quoted(i.input)}` }), 'type')
  .meta({ description: 'Comma-separated event types', examples: ['mou.signed,pilot.started'] });

export const eventRoutes: FastifyPluginAsyncZod<EventRoutesOptions> = async (app, { reader, recorder, appendBodyLimit, maxPageSize, onRecorded }) => {
  app.post(
    '/v1/events',
    {
      bodyLimit: appendBodyLimit,
      config: { access: 'writer' },
      preValidation: async (request) => refuseRepeated(request, 'idempotency-key'),
      schema: {
        tags: TAGS,
        operationId: 'recordEvents',
        summary: 'Record one event, or a batch of up to 1000 (all or nothing)',
        headers: z.object({
          'idempotency-key': z
            .string()
            .min(1, { error: 'an empty Idempotency-Key names no key: send one of 1 to 200 characters, or leave the header out' })
            .max(200, { error: 'an Idempotency-Key is at most 200 characters long' })
            // HTTP carries other bytes with no agreed encoding: Node reads them as Latin-1, so that
            // a key sent in UTF-8 and the same key in Latin-1 were two keys (found by the probe of
            // hostile input, 2026-12-07). A UUID is the usual key.
            .regex(/^[\x20-\x7e]*$/, { error: 'an Idempotency-Key is written in printable ASCII (letters, digits, punctuation, spaces), as a UUID is' })
            .optional()
            .meta({ description: 'The same key with the same body returns the original response and stores nothing new' }),
        }),
        body: z.union([ProposedEventBatch, ProposedEvent]),
        response: {
          201: EventList,
          400: ProblemDetails,
          409: ProblemDetails,
          413: ProblemDetails,
          415: ProblemDetails,
          422: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const events = 'events' in body ? body.events : [body];
      const recorded = await recorder.record(
        { events, principal: principalOf(request), requestId: request.id, idempotencyKey: request.headers['idempotency-key'] },
        onRecorded,
      );
      const [first] = recorded;
      if (recorded.length === 1 && first !== undefined) reply.header('location', `/v1/events/${first.id}`);
      return reply.code(201).send({ events: recorded.map(toEventEnvelope) });
    },
  );

  app.get(
    '/v1/events',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'readFeed',
        summary: 'The global feed, in order; page with nextCursor, which never skips a late-committed event',
        querystring: z.object({
          after: z.string().optional().meta({ description: 'nextCursor of the previous page; omit to start at the beginning' }),
          limit: decimalInteger(1, maxPageSize, 100),
          type: TypeList.optional(),
          stream: StreamName.optional(),
          programId: ProgramId.optional(),
          consortiumId: ConsortiumId.optional(),
        }),
        response: {
          200: z.object({
            events: z.array(EventEnvelope),
            nextCursor: z.string().meta({ description: 'Pass as `after` to read on; returned even when the page is empty' }),
          }),
          400: ProblemDetails,
        },
      },
    },
    async (request) => {
      const { after, limit, type, stream, programId, consortiumId } = request.query;
      const page = await reader.pageFeed(after, limit, { types: type, stream, programId, consortiumId });
      return { events: page.events.map(toEventEnvelope), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/events/:id',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'getEvent',
        summary: 'One event by id',
        params: ById,
        response: { 200: EventEnvelope, 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request) => toEventEnvelope(await reader.getEvent(request.params.id)),
  );
};
