import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FuzzyDateInput } from '../../domain/fuzzy-date.js';
import { ConsortiumId, ProgramId } from '../../domain/identifiers.js';
import { negotiateCsv, replyCsv, toCsv } from '../csv.js';
import { fuzzyDateCsvCells } from '../schemas/cell-csv.js';
import { ProblemDetails } from '../problem.js';
import { refuseBackwardRange } from '../schemas/date-range.js';
import { NextCursor, pageQuery } from '../schemas/page.js';
import { EventEnvelope, toEventEnvelope } from '../../domain/event-envelope.js';
import { ownTitle, shortTitle } from '../../domain/evidence.js';
import { dataText } from '../../domain/recorded-event.js';
import { CutoffEcho, CutoffQuery, toCutoff, toCutoffColumns, toCutoffEcho } from '../schemas/status-views.js';
import { endBound, lastCovered } from '../../domain/cut-off.js';
import type { ViewRoutesOptions } from './programs.js';

const TIMELINE_HEADER = [
  'occurredAt',
  'start',
  'end',
  'precision',
  'type',
  'stream',
  'position',
  'recordedAt',
  'programId',
  'consortiumId',
  'milestone',
  'title',
  'retracted',
  'retractedBy',
  'id',
  'sources',
];

const RangeEcho = z
  .object({
    from: z.iso.datetime().optional().meta({ description: 'The first instant `from` covers, as resolved (the start of its period)' }),
    to: z.iso.datetime().optional().meta({ description: 'The last instant `to` covers, as resolved (the end of its period)' }),
  })
  .meta({ id: 'ResolvedRange', description: 'The instants from and to were resolved to; empty without them' });

/** An event of the timeline: its envelope, and whether it was retracted at the cut-off. Named once, for every app of the process. */
const TimelineEvent = EventEnvelope.extend({
  retracted: z.boolean(),
  retractedBy: z.uuid().optional().meta({ description: 'The event.retracted that undid it' }),
}).meta({ id: 'TimelineEvent' });

export const timelineRoutes: FastifyPluginAsyncZod<ViewRoutesOptions> = async (app, { views, maxPageSize }) => {
  app.get(
    '/v1/timeline',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['views'],
        operationId: 'getTimeline',
        summary: 'Events in world-time order, a page at a time, retracted ones marked (also text/csv)',
        produces: ['application/json', 'text/csv'],
        querystring: z.object({
          programId: ProgramId.optional(),
          consortiumId: ConsortiumId.optional(),
          from: FuzzyDateInput.optional().meta({ description: 'Only events that begin at or after the start of this date (from=2026-06: from 1 June)' }),
          to: FuzzyDateInput.optional().meta({ description: 'Only events that begin by the end of this date (to=2026-06: through 30 June)' }),
          ...CutoffQuery,
          ...pageQuery(maxPageSize),
        }).superRefine(({ from, to }, ctx) => refuseBackwardRange(ctx, { name: 'from', date: from }, { name: 'to', date: to })),
        response: {
          200: z.object({
            events: z.array(
              TimelineEvent,
            ),
            nextCursor: NextCursor,
            cutoff: CutoffEcho,
            range: RangeEcho,
          }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const { programId, consortiumId, from, to, limit } = request.query;
      const { cutoff, after, next } = await views.settlePage(toCutoff(request.query), request.query.after);
      const toBefore = to === undefined ? undefined : endBound(to);
      const page = await views.timeline({ programId, consortiumId, from: from?.start, toBefore }, cutoff, { after, limit });
      const nextCursor = next(page.nextCursor);
      // SPEC §2.1: every view echoes the instants it resolved its cut-offs, and range ends, to.
      const range = {
        ...(from !== undefined && { from: from.start.toISOString() }),
        ...(toBefore !== undefined && { to: lastCovered(toBefore).toISOString() }),
      };
      // Added to the envelope, not spread into a copy of it (toEventEnvelope says why).
      const events = page.items.map(({ event, retractedBy }) =>
        Object.assign(toEventEnvelope(event), retractedBy === undefined ? { retracted: false } : { retracted: true, retractedBy }),
      );
      if (negotiateCsv(request, reply)) {
        const rows = page.items.map(({ event, retractedBy }) => [
          ...fuzzyDateCsvCells(event.occurredAt),
          event.occurredAt.precision,
          event.type,
          event.stream,
          event.position,
          event.recordedAt.toISOString(),
          dataText(event, 'programId'),
          dataText(event, 'consortiumId'),
          dataText(event, 'milestone'),
          // Its own title whole, as in JSON; else what it names, as a cell's evidence shows it.
          ownTitle(event) ?? shortTitle(event),
          retractedBy !== undefined,
          retractedBy,
          event.id,
          event.sources.map((s) => s.url).join(' '),
        ]);
        replyCsv(reply, toCsv(TIMELINE_HEADER, rows, { ...toCutoffColumns(cutoff), rangeFrom: range.from, rangeTo: range.to }), 'timeline.csv', nextCursor, cutoff);
      }
      return { events, ...(nextCursor !== undefined && { nextCursor }), cutoff: toCutoffEcho(cutoff), range };
    },
  );
};
