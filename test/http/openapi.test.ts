import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH, renderOpenApi } from '../../src/http/render-openapi.js';
import { get } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

describe('OpenAPI document', () => {
  it('committed under openapi/ is exactly what the code generates (run `npm run openapi` after changing a route)', async () => {
    const committed = await readFile(OPENAPI_PATH, 'utf8');

    expect(await renderOpenApi(t.app)).toBe(committed);
  });

  it('is OpenAPI 3.1, served at /openapi.json, and documents the events API with its problems', async () => {
    const response = await get(t.app, '/openapi.json');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      openapi: '3.1.0',
      paths: {
        '/v1/events': { post: { operationId: 'recordEvents' }, get: { operationId: 'readFeed' } },
        '/v1/events/{id}': { get: { operationId: 'getEvent' } },
        '/v1/streams/{stream}/events': { get: { operationId: 'readStream' } },
        '/v1/event-types': { get: { operationId: 'listEventTypes' } },
      },
      components: { schemas: { ProblemDetails: { type: 'object' }, Event: { type: 'object' } } },
    });
  });

  it('is browsable at /docs', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs/' });

    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger');
  });
});
