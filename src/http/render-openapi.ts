import type { FastifyInstance } from 'fastify';

export const OPENAPI_PATH = new URL('../../openapi/openapi.json', import.meta.url);

/** The OpenAPI document as committed: generated from the route schemas, stable formatting. */
export async function renderOpenApi(app: FastifyInstance): Promise<string> {
  await app.ready();
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}
