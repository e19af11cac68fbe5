import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { registerErrorHandling } from './http/error-handler.js';
import { OPENAPI_OPTIONS } from './http/openapi-options.js';
import { eventTypeRoutes } from './http/routes/event-types.js';
import { eventRoutes } from './http/routes/events.js';
import { operationsRoutes, type Readiness } from './http/routes/operations.js';
import { problemTypeRoutes } from './http/routes/problem-types.js';
import { streamRoutes } from './http/routes/streams.js';
import { consortiumRoutes } from './http/routes/consortiums.js';
import { programRoutes } from './http/routes/programs.js';
import { timelineRoutes } from './http/routes/timeline.js';
import type { Db } from './store/database.js';

export interface AppLimits {
  /** Bytes accepted in a POST /v1/events body. */
  readonly appendBodyLimit: number;
  /** Bytes accepted in any other body. */
  readonly bodyLimit: number;
  readonly maxPageSize: number;
}

export const DEFAULT_LIMITS: AppLimits = { appendBodyLimit: 5 * 1024 * 1024, bodyLimit: 64 * 1024, maxPageSize: 1000 };

export interface AppDependencies {
  readonly db: Db;
  readonly limits?: AppLimits;
  readonly logger?: FastifyServerOptions['logger'];
  readonly checkReadiness?: () => Promise<Readiness>;
  /** The clock views judge "overdue" by; tests fix it. */
  readonly now?: () => Date;
}

/** Builds the HTTP application; it does not listen, so tests drive it with inject(). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: limits.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON is accepted: any other body is answered 415 rather than half-parsed as text.
  app.removeContentTypeParser('text/plain');
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerErrorHandling(app);

  // Swagger must be registered before the routes it documents (research/stack.md G6c).
  await app.register(swagger, OPENAPI_OPTIONS);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const checkReadiness = deps.checkReadiness ?? (async () => ({ database: true, migrations: true }));
  await app.register(operationsRoutes, { checkReadiness });
  await app.register(problemTypeRoutes);
  await app.register(eventTypeRoutes);
  await app.register(eventRoutes, { db: deps.db, appendBodyLimit: limits.appendBodyLimit, maxPageSize: limits.maxPageSize });
  await app.register(streamRoutes, { db: deps.db, maxPageSize: limits.maxPageSize });
  const views = { db: deps.db, now: deps.now ?? (() => new Date()) };
  await app.register(programRoutes, views);
  await app.register(consortiumRoutes, views);
  await app.register(timelineRoutes, views);
  return app;
}
