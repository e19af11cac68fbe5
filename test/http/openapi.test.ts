import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import { OPENAPI_PATH, renderOpenApi } from '../../src/http/render-openapi.js';
import { z } from 'zod';
import { EVENT_TYPE_NAMES } from '../../src/domain/event-catalogue.js';
import { programWithConsortium } from '../support/events.js';
import { call, get, record } from '../support/http.js';
import { committedResponses } from '../support/openapi-responses.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ webhooks: { rules: { addresses: parseAllowedCidrs(''), allowHttp: false }, resolve: async () => [{ address: '93.184.216.34', family: 4 }], defaultMaxInFlight: 4 } });

const Parameter = z.looseObject({ name: z.string(), examples: z.unknown().optional(), description: z.string().optional(), schema: z.looseObject({ examples: z.unknown().optional() }).optional() });
const Response = z.looseObject({ content: z.record(z.string(), z.looseObject({ schema: z.unknown() })).optional() });
const Operation = z.looseObject({
  security: z.unknown().optional(),
  parameters: z.array(Parameter).optional(),
  requestBody: z.looseObject({ required: z.boolean().optional() }).optional(),
  responses: z.record(z.string(), Response).optional(),
});
const Document = z.looseObject({
  servers: z.unknown().optional(),
  paths: z.record(z.string(), z.record(z.string(), Operation)),
  webhooks: z.unknown(),
  components: z.looseObject({
    schemas: z.record(z.string(), z.looseObject({ example: z.unknown().optional(), examples: z.unknown().optional().optional() })),
    securitySchemes: z.record(z.string(), z.looseObject({ description: z.string().optional() })),
  }),
});

/** The document as served at /openapi.json (the drift test holds the committed one to it). */
const served = async () => Document.parse((await get(t.app, '/openapi.json')).body);

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
      components: { schemas: { ProblemDetails: { type: 'object' }, Event: { allOf: [{ type: 'object' }, { $ref: '#/components/schemas/EventOfType' }] } } },
    });
  });

  it('lists itself, and declares security on every operation: [] on open ones', async () => {
    const document = await served();

    expect(document.paths['/openapi.json']?.get).toMatchObject({ operationId: 'getOpenApi', security: [] });
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) expect(operation.security, `${method} ${path}`).toBeDefined();
    }
    expect(document.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('names the least role each keyed operation needs in its security requirement, as OpenAPI 3.1 allows (until 2026-12-06 none: probe of the OpenAPI document)', async () => {
    const { paths } = await served();

    expect(paths['/v1/programs']?.get?.security).toEqual([{ apiKey: ['reader'] }]);
    expect(paths['/v1/events']?.post?.security).toEqual([{ apiKey: ['writer'] }]);
    expect(paths['/v1/subscriptions']?.get?.security).toEqual([{ apiKey: ['admin'] }]);
    expect(paths['/v1/api-keys/{id}']?.delete?.security).toEqual([{ apiKey: ['admin'] }]);
  });

  it('declares on a DELETE that takes a body the 413 and 415 it answers to one too large or not JSON (until 2026-12-06 only POST, PUT and PATCH)', async () => {
    const { paths } = await served();
    const key = (await call(t.app, 'POST', '/v1/api-keys', { name: 'doomed', role: 'reader' })).body;
    const id = z.object({ id: z.string() }).parse(key).id;

    const unsupported = await call(t.app, 'DELETE', `/v1/api-keys/${id}`, 'force', { 'content-type': 'text/plain' });

    expect(unsupported.status).toBe(415);
    expect(Object.keys(paths['/v1/api-keys/{id}']?.delete?.responses ?? {})).toEqual(expect.arrayContaining(['413', '415']));
    expect(Object.keys(paths['/v1/subscriptions/{id}']?.delete?.responses ?? {})).toEqual(expect.arrayContaining(['413', '415']));
  });

  it('says how to authorize in words Swagger UI shows (no angle brackets to be read as HTML)', async () => {
    const { components } = await served();

    expect(components.securitySchemes.apiKey?.description).toContain('Bearer followed by your API key');
    expect(components.securitySchemes.apiKey?.description).not.toMatch(/[<>]/);
  });

  it('declares CSV answers as text, and problems only as application/problem+json', async () => {
    const { paths } = await served();

    for (const path of ['/v1/programs/{programId}/milestones', '/v1/timeline']) {
      const responses = paths[path]?.get?.responses ?? {};
      expect(responses['200']?.content?.['text/csv']?.schema).toMatchObject({ type: 'string' });
      expect(responses['200']?.content?.['application/json']?.schema).toMatchObject({ type: 'object' });
      expect(Object.keys(responses['400']?.content ?? {})).toEqual(['application/problem+json']);
    }
    for (const item of Object.values(paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (Number(status) >= 400 && response.content !== undefined) expect(Object.keys(response.content)).toContain('application/problem+json');
        }
      }
    }
  });

  it('pre-fills no cut-off or date range in Swagger UI: asOf, knownAt, from and to have no examples', async () => {
    const { paths } = await served();

    const dateParameters = Object.values(paths)
      .flatMap((item) => Object.values(item))
      .flatMap((operation) => operation.parameters ?? [])
      .filter((parameter) => ['asOf', 'knownAt', 'from', 'to'].includes(parameter.name));
    expect(dateParameters.length).toBeGreaterThan(8);
    for (const parameter of dateParameters) {
      expect(parameter.examples, parameter.name).toBeUndefined();
      expect(parameter.schema?.examples, parameter.name).toBeUndefined();
      expect(parameter.description, parameter.name).toBeDefined();
    }
  });

  it('says what the service accepts: rotate-secret without a body, a subscription PATCH only with a change', async () => {
    const { paths, components } = await served();
    const created = z.object({ id: z.string() }).parse((await call(t.app, 'POST', '/v1/subscriptions', { url: 'https://hooks.example/ledger', topics: ['pilot.*'] })).body);

    expect(paths['/v1/subscriptions/{id}/rotate-secret']?.post?.requestBody?.required).toBe(false);
    expect((await call(t.app, 'POST', `/v1/subscriptions/${created.id}/rotate-secret`)).status).toBe(201);
    expect(components.schemas.SubscriptionPatch).toMatchObject({ minProperties: 1 });
    expect((await call(t.app, 'PATCH', `/v1/subscriptions/${created.id}`, {})).status).toBe(400);
  });

  it('publishes every component schema it refers to and no other, request bodies under their own names (NewApiKey, not NewApiKeyInput)', async () => {
    const document = await served();
    const names = Object.keys(document.components.schemas);
    const referred = (value: unknown): string[] => {
      const text = JSON.stringify(value);
      return [...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1] ?? '');
    };
    const reachable = new Set<string>();
    const pending = referred({ ...document, components: { ...document.components, schemas: {} } });
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (reachable.has(name)) continue;
      expect(names, `${name} is referred to`).toContain(name);
      reachable.add(name);
      pending.push(...referred(document.components.schemas[name]));
    }

    expect([...reachable].sort()).toEqual([...names].sort());
    expect(document.paths['/v1/api-keys']?.post?.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/NewApiKey' } } } });
    expect(document.paths['/v1/events']?.post?.requestBody).toMatchObject({
      content: { 'application/json': { schema: { anyOf: [{ $ref: '#/components/schemas/ProposedEventBatch' }, { $ref: '#/components/schemas/ProposedEvent' }] } } },
    });
    // A schema the same read as written is published once: a source, sent and read back.
    expect(names).toContain('Source');
    expect(names.filter((name) => name.endsWith('Input'))).toEqual([]);
  });

  it("narrows every event the service writes by its type: the envelope and the catalogue's data of that type (probe of a generated client: data was an open object)", async () => {
    const document = await served();
    const Branch = z.object({ properties: z.object({ type: z.object({ const: z.string() }) }) });
    const byType = z.object({ oneOf: z.array(z.object({ $ref: z.string() })) }).parse(document.components.schemas.EventOfType);
    const typeOf = (ref: string) => Branch.parse(document.components.schemas[ref.replace('#/components/schemas/', '')]).properties.type.const;

    expect(byType.oneOf.map((branch) => typeOf(branch.$ref))).toEqual([...EVENT_TYPE_NAMES]);
    for (const name of ['Event', 'TimelineEvent']) {
      expect(document.components.schemas[name], name).toMatchObject({ allOf: [{ type: 'object' }, { $ref: '#/components/schemas/EventOfType' }] });
    }
    // A real event, and the same with another type's name or data, checked against the document as the suite checks every answer.
    const [recorded] = await record(t.app, ...programWithConsortium('narrow').events);
    const answer = await call(t.app, 'GET', `/v1/events/${recorded?.id ?? ''}`);
    const conformsWith = (body: unknown) =>
      committedResponses().problemsWith({ method: 'GET', url: `/v1/events/${recorded?.id ?? ''}`, status: 200, contentType: 'application/json', body: JSON.stringify(body) });
    const Body = z.looseObject({ type: z.string(), data: z.record(z.string(), z.unknown()) });
    const event = Body.parse(answer.body);

    expect(event.type).toBe('program.registered');
    expect(conformsWith(event)).toEqual([]);
    expect(conformsWith({ ...event, type: 'seminar.held' })).not.toEqual([]);
    expect(conformsWith({ ...event, data: { ...event.data, name: 42 } })).not.toEqual([]);
    expect(conformsWith({ ...event, data: { ...event.data, weather: 'fine' } })).not.toEqual([]);
  });

  it('has no discriminator on a schema an allOf refers to: generators read the referrer as a subtype named by it (review: openapi-typescript typed every Event\'s type as "Event")', async () => {
    const document = await served();
    const referredFromAllOf = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      if (typeof value !== 'object' || value === null) return;
      const allOf = 'allOf' in value && Array.isArray(value.allOf) ? value.allOf : [];
      for (const part of allOf) {
        const ref = z.object({ $ref: z.string() }).safeParse(part);
        if (ref.success) referredFromAllOf.add(ref.data.$ref.replace('#/components/schemas/', ''));
      }
      Object.values(value).forEach(walk);
    };
    walk(document);

    expect(referredFromAllOf).toContain('EventOfType');
    for (const name of referredFromAllOf) expect(document.components.schemas[name], name).not.toHaveProperty('discriminator');
  });

  it('gives examples a reader recognises: the 2-event batch of the SKT defense scenario and a positive position', async () => {
    const { components } = await served();

    expect(components.schemas.ProposedEventBatch?.example).toMatchObject({
      events: [{ type: 'mou.signed', data: { consortiumId: 'skt', programId: 'defense-ax' } }, { type: 'pilot.started', data: { milestone: 'lightweight-pilot' } }],
    });
    expect(components.schemas.Event?.examples).toEqual([expect.objectContaining({ position: 31, stream: 'consortium:skt' })]);
  });

  it('is browsable at /docs', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs/' });

    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger');
  });
});
