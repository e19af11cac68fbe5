import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConsortiumId, MilestoneKey, ProgramId } from '../../domain/identifiers.js';
import { negotiateCsv, replyCsv, toCsv } from '../csv.js';
import { ProblemDetails } from '../problem.js';
import { NextCursor, pageQuery } from '../schemas/page.js';
import { CutoffEcho, CutoffQuery, EvidenceEntryOutput, toCutoff, toCutoffEcho, toEvidenceEntryOutput, toCutoffColumns } from '../schemas/status-views.js';
import type { ViewRoutesOptions } from './programs.js';

const EVIDENCE_HEADER = ['occurredAt', 'start', 'end', 'type', 'title', 'id', 'sources'];

/** The whole evidence of one cell, a page at a time: a view shows each cell's latest 20 (SPEC §4). */
export const cellEvidenceRoutes: FastifyPluginAsyncZod<ViewRoutesOptions> = async (app, { views, maxPageSize }) => {
  app.get(
    '/v1/programs/:programId/milestones/:milestone/evidence',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['views'],
        operationId: 'getCellEvidence',
        summary: "A cell's evidence, newest first in world time, a page at a time (also text/csv, a row per entry)",
        produces: ['application/json', 'text/csv'],
        params: z.object({ programId: ProgramId, milestone: MilestoneKey }),
        querystring: z.object({
          consortiumId: ConsortiumId.optional().meta({ description: "The consortium's cell; omit for a program-scope milestone's own" }),
          ...CutoffQuery,
          ...pageQuery(maxPageSize),
        }),
        response: {
          200: z.object({ evidence: z.array(EvidenceEntryOutput), nextCursor: NextCursor, cutoff: CutoffEcho }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const { programId, milestone } = request.params;
      const { consortiumId, limit } = request.query;
      const { cutoff, after, next } = await views.settlePage(toCutoff(request.query), request.query.after);
      const page = await views.cellEvidence({ programId, milestone, consortiumId }, cutoff, { after, limit });
      const nextCursor = next(page.nextCursor);
      const evidence = page.items.map(toEvidenceEntryOutput);
      if (negotiateCsv(request, reply)) {
        const rows = evidence.map((e) => [e.occurredAt.value, e.occurredAt.start, e.occurredAt.end, e.type, e.title, e.id, e.sources.map((s) => s.url).join(' ')]);
        replyCsv(reply, toCsv(EVIDENCE_HEADER, rows, toCutoffColumns(cutoff)), `${programId}-${milestone}${consortiumId === undefined ? '' : `-${consortiumId}`}-evidence.csv`, nextCursor, cutoff);
      }
      return {
        evidence,
        ...(nextCursor !== undefined && { nextCursor }),
        cutoff: toCutoffEcho(cutoff),
      };
    },
  );
};
