import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MilestoneOutput } from '../../src/http/schemas/status-views.js';
import { get } from './http.js';

const Matrix = z.object({ programId: z.string(), milestones: z.array(MilestoneOutput), counts: z.record(z.string(), z.int()) });

/** The milestone matrix of a program, checked against the API's schema. */
export async function matrix(app: FastifyInstance, programId: string, query = '') {
  const response = await get(app, `/v1/programs/${programId}/milestones${query}`);
  if (response.status !== 200) throw new Error(`matrix: ${response.status} ${JSON.stringify(response.body)}`);
  return Matrix.parse(response.body);
}

/** One cell: the program's own for program scope, else the named consortium's. */
export async function cell(app: FastifyInstance, programId: string, milestone: string, consortiumId?: string, query = '') {
  const response = await get(app, `/v1/programs/${programId}/milestones/${milestone}${query}`);
  if (response.status !== 200) throw new Error(`milestone: ${response.status} ${JSON.stringify(response.body)}`);
  const found = MilestoneOutput.parse(response.body).cells.find((c) => c.consortiumId === consortiumId);
  if (found === undefined) throw new Error(`no cell ${programId}/${milestone}/${consortiumId ?? '-'}`);
  return found;
}

/** A view's answer as JSON but for judgedAt, the moment of each request: equal for equal answers. */
export const withoutJudgedAt = (body: unknown): string => JSON.stringify(body, (key, value: unknown) => (key === 'judgedAt' ? undefined : value));
