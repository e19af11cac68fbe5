import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

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
    tags: [
      { name: 'events', description: 'Record and read immutable events' },
      { name: 'views', description: 'Status of programs, milestones and consortiums, now or at any cut-off' },
      { name: 'notifications', description: 'Webhook subscriptions, deliveries and the live feed' },
      { name: 'access', description: 'API keys (admin only)' },
      { name: 'operations', description: 'Health, readiness and reference' },
    ],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <api key>; roles reader < writer < admin' },
      },
    },
  },
  transform: jsonSchemaTransform,
  transformObject: jsonSchemaTransformObject,
};
