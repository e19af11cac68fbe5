import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MilestoneKey, ProgramId } from '../../domain/identifiers.js';
import type { MilestoneView, StatusViews } from '../../services/status-views.js';
import { negotiateCsv, replyCsv, toCsv, type CsvCell } from '../csv.js';
import { CELL_CSV_HEADER, cellCsvRow, noCellCsvRow } from '../schemas/cell-csv.js';
import { MILESTONE_CSV_HEADER, milestoneCsvRow, PROGRAM_CSV_HEADER, programCsvRow } from '../schemas/view-csv.js';
import { ProblemDetails } from '../problem.js';
import { NextCursor, pageQuery } from '../schemas/page.js';
import { FuzzyDateOutput, toFuzzyDateOutput } from '../../domain/event-envelope.js';
import { countStatuses, CutoffQuery, JudgedAt, MilestoneOutput, ProgramOutput, StatusCounts, toCutoff, ExpandQuery, toCutoffEcho, CutoffEcho, toJudgedAt, toMilestoneOutput, toProgramOutput, toCutoffColumns } from '../schemas/status-views.js';

export interface ViewRoutesOptions {
  readonly views: StatusViews;
  readonly now: () => Date;
  readonly maxPageSize: number;
}

const TAGS = ['views'];
const CutoffQuerystring = z.object(CutoffQuery);

const MATRIX_HEADER = ['programId', 'milestone', 'title', 'scope', 'consortiumId', ...CELL_CSV_HEADER];

/** A milestone's rows in a matrix CSV: one a cell, or one with empty cell columns when it has none. */
const matrixCsvRows = (programId: string, m: MilestoneView): CsvCell[][] => {
  const head = [programId, m.milestone, m.title, m.scope];
  if (m.cells.length === 0) return [[...head, undefined, ...noCellCsvRow(m.due)]];
  return m.cells.map((c) => [...head, c.consortiumId, ...cellCsvRow(c)]);
};

export const programRoutes: FastifyPluginAsyncZod<ViewRoutesOptions> = async (app, { views, now, maxPageSize }) => {
  app.get(
    '/v1/programs',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'listPrograms',
        summary: 'Every registered program, a page at a time in id order (also text/csv)',
        produces: ['application/json', 'text/csv'],
        querystring: CutoffQuerystring.extend(pageQuery(maxPageSize)),
        response: { 200: z.object({ programs: z.array(ProgramOutput), nextCursor: NextCursor, cutoff: CutoffEcho }), 400: ProblemDetails },
      },
    },
    async (request, reply) => {
      const { cutoff, after, next } = await views.settlePage(toCutoff(request.query), request.query.after);
      const page = await views.listPrograms(cutoff, { after, limit: request.query.limit });
      const nextCursor = next(page.nextCursor);
      if (negotiateCsv(request, reply)) replyCsv(reply, toCsv(PROGRAM_CSV_HEADER, page.items.map(programCsvRow), toCutoffColumns(cutoff)), 'programs.csv', nextCursor, cutoff);
      return {
        programs: page.items.map(toProgramOutput),
        ...(nextCursor !== undefined && { nextCursor }),
        cutoff: toCutoffEcho(cutoff),
      };
    },
  );

  app.get(
    '/v1/programs/:programId',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'getProgram',
        summary: 'A program with its planned milestones (also text/csv, a row per milestone)',
        produces: ['application/json', 'text/csv'],
        params: z.object({ programId: ProgramId }),
        querystring: CutoffQuerystring,
        response: {
          200: ProgramOutput.extend({
            milestones: z.array(
              z.object({ milestone: z.string(), title: z.string(), scope: z.string(), due: FuzzyDateOutput.optional() }),
            ),
            cutoff: CutoffEcho,
          }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const cutoff = await views.settle(toCutoff(request.query));
      const { programId } = request.params;
      const view = await views.viewProgramPlan(programId, cutoff);
      if (negotiateCsv(request, reply)) {
        replyCsv(reply, toCsv(MILESTONE_CSV_HEADER, view.milestones.map((m) => milestoneCsvRow(programId, m)), toCutoffColumns(cutoff)), `${programId}.csv`);
      }
      return {
        cutoff: toCutoffEcho(cutoff),
        ...toProgramOutput(view.program),
        milestones: view.milestones.map((m) => ({
          milestone: m.milestone,
          title: m.title,
          scope: m.scope,
          ...(m.due !== undefined && { due: toFuzzyDateOutput(m.due) }),
        })),
      };
    },
  );

  app.get(
    '/v1/programs/:programId/milestones',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'getMilestoneMatrix',
        summary: "Every milestone of a program with each cell's status, and a count per status (also text/csv)",
        produces: ['application/json', 'text/csv'],
        params: z.object({ programId: ProgramId }),
        querystring: CutoffQuerystring.extend(ExpandQuery),
        response: {
          200: z.object({
            programId: z.string(),
            milestones: z.array(MilestoneOutput),
            counts: StatusCounts,
            eliminations: z
              .array(z.object({ consortiumId: z.string(), eliminatedAt: FuzzyDateOutput }))
              .meta({ description: "The consortiums eliminated from the program at the cut-off, each with its earliest elimination in world time, in the order of their ids (as a consortium's status gives it)" }),
            cutoff: CutoffEcho,
            judgedAt: JudgedAt,
          }),
          400: ProblemDetails,
          404: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const { programId } = request.params;
      const cutoff = await views.settle(toCutoff(request.query));
      const csv = negotiateCsv(request, reply);
      // A spreadsheet gets the sources of the evidence too: it cannot follow ids.
      const at = now();
      const view = await views.viewProgram(programId, cutoff, at, { expandEvidence: csv || request.query.expand === 'evidence' });
      const milestones = view.milestones.map(toMilestoneOutput);
      const judgedAt = toJudgedAt(cutoff, at);
      if (csv) {
        const rows = view.milestones.flatMap((m) => matrixCsvRows(programId, m));
        replyCsv(reply, toCsv(MATRIX_HEADER, rows, { ...toCutoffColumns(cutoff), judgedAt }), `${programId}-milestones.csv`);
      }
      return {
        programId,
        milestones,
        counts: countStatuses(view.milestones.flatMap((m) => m.cells)),
        eliminations: view.eliminations.map((e) => ({ consortiumId: e.consortiumId, eliminatedAt: toFuzzyDateOutput(e.eliminatedAt) })),
        cutoff: toCutoffEcho(cutoff),
        judgedAt,
      };
    },
  );

  app.get(
    '/v1/programs/:programId/milestones/:milestone',
    {
      config: { access: 'reader' },
      schema: {
        tags: TAGS,
        operationId: 'getMilestone',
        summary: 'One milestone with its cells (also text/csv, a row per cell)',
        produces: ['application/json', 'text/csv'],
        params: z.object({ programId: ProgramId, milestone: MilestoneKey }),
        querystring: CutoffQuerystring.extend(ExpandQuery),
        response: { 200: MilestoneOutput.extend({ cutoff: CutoffEcho, judgedAt: JudgedAt }), 400: ProblemDetails, 404: ProblemDetails },
      },
    },
    async (request, reply) => {
      const { programId, milestone } = request.params;
      const cutoff = await views.settle(toCutoff(request.query));
      const csv = negotiateCsv(request, reply);
      const at = now();
      const view = await views.viewMilestone(programId, milestone, cutoff, at, { expandEvidence: csv || request.query.expand === 'evidence' });
      const judgedAt = toJudgedAt(cutoff, at);
      if (csv) {
        const rows = matrixCsvRows(programId, view);
        replyCsv(reply, toCsv(MATRIX_HEADER, rows, { ...toCutoffColumns(cutoff), judgedAt }), `${programId}-${milestone}.csv`);
      }
      return { ...toMilestoneOutput(view), cutoff: toCutoffEcho(cutoff), judgedAt };
    },
  );
};
