import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { describeMediaTypes, keepReferencedSchemas } from './openapi-document.js';
import { describeEventsByType } from './openapi-event-types.js';
import { describeHeaders, RESPONSE_HEADERS } from './openapi-headers.js';
import { WEBHOOKS } from './openapi-webhooks.js';

export const OPENAPI_OPTIONS: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'milestone-ledger',
      version: '1.0.0',
      description:
        'Immutable events about state-run technology programs, projected into the status of every program milestone. ' +
        'Errors are RFC 9457 problem+json; their types are listed at /problems.',
    },
    // Relative: the document describes whichever host serves it.
    servers: [{ url: '/', description: 'The service that serves this document' }],
    tags: [
      { name: 'events', description: 'Record and read immutable events' },
      { name: 'views', description: 'Status of programs, milestones and consortiums, now or at any cut-off' },
      { name: 'notifications', description: 'Webhook subscriptions, deliveries and the live feed' },
      { name: 'access', description: 'API keys (admin only)' },
      { name: 'operations', description: 'Health, readiness and reference' },
    ],
    // Subscribers generate their receivers from the document too (OpenAPI 3.1's webhooks).
    webhooks: WEBHOOKS,
    components: {
      headers: RESPONSE_HEADERS,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Send the header Authorization with the word Bearer followed by your API key. ' +
            'Roles: reader (GET only), writer (a reader that also records events), admin (a writer that also manages subscriptions and keys). ' +
            "Each operation names the least role it needs in its security requirement (OpenAPI 3.1's role names).",
        },
      },
    },
  },
  transform: jsonSchemaTransform,
  transformObject: (documentObject) => {
    // A copy: the passes below rewrite the document in place, and parts of it (the webhooks, the
    // headers) are these options' own, shared by every app of the process.
    const document = structuredClone(jsonSchemaTransformObject(documentObject));
    describeMediaTypes(document.paths);
    describeHeaders(document.paths);
    describeEventsByType(document, ['Event', 'TimelineEvent']);
    keepReferencedSchemas(document);
    return document;
  },
};
