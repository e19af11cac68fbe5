import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConsortiumId } from '../../domain/identifiers.js';
import { ProblemDetails } from '../problem.js';
import { negotiateCsv, replyCsv, toCsv } from '../csv.js';
import { CELL_CSV_HEADER, cellCsvRow, fuzzyDateCsvCells, noCellCsvRow } from '../schemas/cell-csv.js';
import { CONSORTIUM_CSV_HEADER, consortiumCsvRow } from '../schemas/view-csv.js';
import { NextCursor, pageQuery } from '../schemas/page.js';
import { FuzzyDateOutput, toFuzzyDateOutput } from '../../domain/event-envelope.js';
import { CellOutput, ConsortiumOutput, CutoffQuery, JudgedAt, ProgramOutput, toCellOutput, toConsortiumOutput, toCutoff, ExpandQuery, toCutoffEcho, CutoffEcho, toJudgedAt, toProgramOutput, toCutoffColumns } from '../schemas/status-views.js';
import type { ViewRoutesOptions } from './programs.js';

const TAGS = ['views'];

/** One row per cell: the consortium's own, and its programs' program-scope cells (consortium column empty). */
// The enrolment's dates on each of its program's rows: an eliminated consortium shows as such, not only through its cancelled cells.
const CONSORTIUM_HEADER = [
  'consortiumId',
  'programId',
  'enrolledAt',
  'enrolledAtStart',
  'enrolledAtEnd',
  'eliminatedAt',
  'eliminatedAtStart',
  'eliminatedAtEnd',
  'milestone',
  'title',
  'scope',
  'cellConsortiumId',
  ...CELL_CSV_HEADER,
];

export const consortiumRoutes: FastifyPluginAsyncZod<ViewRoutesOptions> = async (app, { views, now, maxPageSize }) => {
  app.get(
    '/v1/consortiums',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'listConsortiums',
        summary: 'Every registered consortium, a page at a time in id order (also text/csv)',
        produces: ['application/json', 'text/csv'],
        querystring: z.object({ ...CutoffQuery, ...pageQuery(maxPageSize) }),
        response: { 200: z.object({ consortiums: z.array(ConsortiumOutput), nextCursor: NextCursor, cutoff: CutoffEcho }), 400: ProblemDetails },
      },
    },
    async (request, reply) => {
      const { cutoff, after, next } = await views.settlePage(toCutoff(request.query), request.query.after);
      const page = await views.listConsortiums(cutoff, { after, limit: request.query.limit });
      const nextCursor = next(page.nextCursor);
      if (negotiateCsv(request, reply)) replyCsv(reply, toCsv(CONSORTIUM_CSV_HEADER, page.items.map(consortiumCsvRow), toCutoffColumns(cutoff)), 'consortiums.csv', nextCursor, cutoff);
      return {
        consortiums: page.items.map(toConsortiumOutput),
        ...(nextCursor !== undefined && { nextCursor }),
        cutoff: toCutoffEcho(cutoff),
      };
    },
  );

  app.get(
    '/v1/consortiums/:consortiumId/status',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'getConsortiumStatus',
        summary: 'A consortium, each program it is in (a page at a time, in the order of enrolment), and each milestone cell there (also text/csv)',
        produces: ['application/json', 'text/csv'],
        params: z.object({ consortiumId: ConsortiumId }),
        querystring: z.object({ ...CutoffQuery, ...ExpandQuery, ...pageQuery(maxPageSize) }),
        response: {
          200: z.object({
            consortium: ConsortiumOutput,
            programs: z.array(
              z.object({
                program: ProgramOutput,
                enrolledAt: FuzzyDateOutput,
                eliminatedAt: FuzzyDateOutput.optional(),
                milestones: z.array(CellOutput.extend({ milestone: z.string(), title: z.string(), scope: z.string() })),
              }),
            ),
            nextCursor: NextCursor,
            cutoff: CutoffEcho,
            judgedAt: JudgedAt,
          }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const { cutoff, after, next } = await views.settlePage(toCutoff(request.query), request.query.after);
      const { consortiumId } = request.params;
      const csv = negotiateCsv(request, reply);
      const at = now();
      const view = await views.viewConsortium(consortiumId, cutoff, at, { expandEvidence: csv || request.query.expand === 'evidence' }, { after, limit: request.query.limit });
      const nextCursor = next(view.nextCursor);
      const judgedAt = toJudgedAt(cutoff, at);
      if (csv) {
        const rows = view.programs.flatMap((p) => {
          const enrolment = [consortiumId, p.program.programId, ...fuzzyDateCsvCells(p.enrolledAt), ...fuzzyDateCsvCells(p.eliminatedAt)];
          // A program with no cell of the consortium (no milestone yet, or none that concerns it) still has its row, as in the JSON.
          if (p.milestones.length === 0) return [[...enrolment, undefined, undefined, undefined, undefined, ...noCellCsvRow()]];
          return p.milestones.map((m) => [...enrolment, m.cell.milestone, m.title, m.scope, m.cell.consortiumId ?? '', ...cellCsvRow(m.cell)]);
        });
        replyCsv(reply, toCsv(CONSORTIUM_HEADER, rows, { ...toCutoffColumns(cutoff), judgedAt }), `${consortiumId}-status.csv`, nextCursor, cutoff);
      }
      return {
        cutoff: toCutoffEcho(cutoff),
        judgedAt,
        consortium: toConsortiumOutput(view.consortium),
        programs: view.programs.map((p) => ({
          program: toProgramOutput(p.program),
          enrolledAt: toFuzzyDateOutput(p.enrolledAt),
          ...(p.eliminatedAt !== undefined && { eliminatedAt: toFuzzyDateOutput(p.eliminatedAt) }),
          milestones: p.milestones.map((m) => ({ milestone: m.cell.milestone, title: m.title, scope: m.scope, ...toCellOutput(m.cell) })),
        })),
        ...(nextCursor !== undefined && { nextCursor }),
      };
    },
  );
};
