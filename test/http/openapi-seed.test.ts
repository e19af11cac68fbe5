import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seedExampleScenario } from '../../db/seed-example-scenario.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { call, get, TEST_ADMIN_KEY } from '../support/http.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/*
 * Swagger UI's "Try it out" on a database seeded with the example scenario: every GET whose path
 * parameters all have examples is sent as Swagger UI fills it in (the first example of each
 * parameter that has one, nothing else), and must answer 200 (call() checks each answer against
 * the document too). The request body example is recorded as it stands.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // The seed is a real HTTP client (fetch), so the app must listen rather than be inject()ed.
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error(`expected a TCP address, got ${String(address)}`);
  await seedExampleScenario(`http://127.0.0.1:${address.port}`, TEST_ADMIN_KEY);
  await waitForFeedHorizon(t.database.db);
});
afterAll(async () => t?.close());

const Parameter = z.looseObject({
  name: z.string(),
  in: z.string(),
  required: z.boolean().optional(),
  example: z.unknown().optional(),
  examples: z.record(z.string(), z.looseObject({ value: z.unknown() })).optional(),
});
const Operation = z.looseObject({ operationId: z.string(), parameters: z.array(Parameter).optional() });
const Document = z.looseObject({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) });

/** @fastify/swagger writes one example as `example`, several as named `examples`. */
const firstExample = (parameter: z.infer<typeof Parameter>): string | undefined => {
  const [example = parameter.example === undefined ? undefined : { value: parameter.example }] = Object.values(parameter.examples ?? {});
  return example === undefined ? undefined : String(example.value);
};

interface Prefilled {
  readonly operationId: string;
  /** undefined when a path parameter has no example. */
  readonly url: string | undefined;
}

/** GET operations as Swagger UI pre-fills them, or undefined where a path parameter has no example. */
async function prefilledGets(): Promise<Prefilled[]> {
  const document = Document.parse((await get(t.app, '/openapi.json')).body);
  return Object.entries(document.paths).flatMap(([path, item]): Prefilled[] => {
    if (item.get === undefined) return [];
    const operation = Operation.parse(item.get);
    const parameters = operation.parameters ?? [];
    let url = path;
    for (const p of parameters.filter((p) => p.in === 'path')) {
      const example = firstExample(p);
      if (example === undefined) return [{ operationId: operation.operationId, url: undefined }];
      url = url.replace(`{${p.name}}`, encodeURIComponent(example));
    }
    const query = new URLSearchParams();
    for (const p of parameters.filter((p) => p.in === 'query')) {
      const example = firstExample(p);
      if (example !== undefined) query.set(p.name, example);
    }
    return [{ operationId: operation.operationId, url: query.size > 0 ? `${url}?${query.toString()}` : url }];
  });
}

describe('OpenAPI "Try it out" on the example scenario', () => {
  it('answers 200 to every GET as Swagger UI fills it in from the examples', async () => {
    const operations = await prefilledGets();
    const tried = operations.filter((o) => o.url !== undefined && o.operationId !== 'followFeed');

    const answers = await Promise.all(tried.map(async (o) => [o.operationId, o.url, (await call(t.app, 'GET', o.url ?? '')).status] as const));

    expect(answers.filter(([, , status]) => status !== 200)).toEqual([]);
    expect(answers.map(([operationId]) => operationId)).toEqual(
      expect.arrayContaining(['getProgram', 'getMilestoneMatrix', 'getMilestone', 'getConsortiumStatus', 'getTimeline', 'readStream', 'readFeed']),
    );
    // Those left out need an id only the service hands out (a UUID), or a problem slug.
    expect(operations.filter((o) => o.url === undefined).map((o) => o.operationId).sort()).toEqual(
      ['getApiKey', 'getDelivery', 'getEvent', 'getProblemType', 'getSubscription', 'getSubscriptionSecrets', 'listDeliveries'],
    );
  });

  it('finds the scenario with the pre-filled filters: the SKT pilot of defense-ax', async () => {
    const operations = await prefilledGets();
    const milestone = operations.find((o) => o.operationId === 'getMilestone')?.url ?? '';

    expect(milestone).toBe('/v1/programs/defense-ax/milestones/lightweight-pilot');
    expect((await call(t.app, 'GET', milestone)).body).toMatchObject({ milestone: 'lightweight-pilot', cells: expect.arrayContaining([expect.objectContaining({ consortiumId: 'skt' })]) });
  });

  it('records the request body example of recordEvents as it stands', async () => {
    const document = z
      .looseObject({ components: z.looseObject({ schemas: z.record(z.string(), z.looseObject({ example: z.unknown().optional() })) }) })
      .parse((await get(t.app, '/openapi.json')).body);

    const response = await call(t.app, 'POST', '/v1/events', document.components.schemas.ProposedEventBatch?.example);

    expect(response.status, JSON.stringify(response.body)).toBe(201);
  });
});
