import type { FastifyInstance } from 'fastify';

export const OPENAPI_PATH = new URL('../../openapi/openapi.json', import.meta.url);

/**
 * The OpenAPI document as committed: generated from the route schemas. Component schemas are
 * sorted by name, because their natural order follows module load order, which differs between
 * the service and the test runner.
 */
export async function renderOpenApi(app: FastifyInstance): Promise<string> {
  await app.ready();
  const document = app.swagger();
  if ('components' in document && document.components?.schemas !== undefined) {
    const schemas = Object.entries(document.components.schemas).sort(([a], [b]) => a.localeCompare(b));
    document.components.schemas = Object.fromEntries(schemas);
  }
  return `${JSON.stringify(document, null, 2)}\n`;
}
