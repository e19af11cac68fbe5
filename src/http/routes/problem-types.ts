import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SubjectNotFoundError } from '../../domain/errors.js';
import { PROBLEM_TYPES, ProblemDetails, problemTypeUri, type ProblemSlug } from '../problem.js';

const PROBLEM_SLUGS = Object.keys(PROBLEM_TYPES).filter((slug): slug is ProblemSlug => Object.hasOwn(PROBLEM_TYPES, slug));

const ProblemType = z.object({ type: z.string(), title: z.string(), status: z.int().min(400).max(599) }).meta({ id: 'ProblemType' });

const describe = (slug: ProblemSlug) => ({ type: problemTypeUri(slug), ...PROBLEM_TYPES[slug] });

/** Problem `type` URIs resolve here, so a client meeting one can look it up. */
export const problemTypeRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/problems',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'listProblemTypes',
        summary: 'Every problem type the API answers with',
        response: { 200: z.object({ problemTypes: z.array(ProblemType) }) },
      },
    },
    async () => ({ problemTypes: PROBLEM_SLUGS.map(describe) }),
  );
  app.get(
    '/problems/:slug',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'getProblemType',
        summary: 'One problem type',
        params: z.object({ slug: z.string() }),
        response: { 200: ProblemType, 404: ProblemDetails },
      },
    },
    async (request) => {
      const { slug } = request.params;
      const known = PROBLEM_SLUGS.find((s) => s === slug);
      if (known === undefined) throw new SubjectNotFoundError('problem type', slug);
      return describe(known);
    },
  );
};
