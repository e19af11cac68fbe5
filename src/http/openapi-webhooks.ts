import { z } from 'zod';
import { EventMessage, StatusChangedMessage, TestPingMessage } from '../domain/notification-message.js';
import { STATUS_CHANGED, TEST_PING } from '../domain/notification.js';
import { SCHEMA_REF } from './openapi-document.js';

/*
 * The document's `webhooks` (OpenAPI 3.1): what the service POSTs to a subscription's url, one entry
 * a kind of message, each with the Standard Webhooks headers and what the service makes of the
 * receiver's answer. The message schemas are components (src/domain/notification-message.ts).
 */

interface HeaderParameter {
  readonly name: string;
  readonly in: 'header';
  readonly required: true;
  readonly description: string;
  readonly schema: { readonly type: 'string'; readonly pattern?: string; readonly examples?: string[] };
}

interface Webhook {
  readonly post: {
    readonly operationId: string;
    readonly summary: string;
    readonly tags: string[];
    readonly security: [];
    readonly parameters: HeaderParameter[];
    readonly requestBody: { readonly required: true; readonly content: { readonly 'application/json': { readonly schema: { readonly $ref: string } } } };
    readonly responses: Record<string, { readonly description: string }>;
  };
}

const SIGNED_HEADERS: HeaderParameter[] = [
  {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: "The message's id, as its body's `id`: the same on every retry and redelivery",
    schema: { type: 'string' },
  },
  {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: "This attempt's moment in seconds since 1970; signed with the body, so that a receiver can refuse an old replay",
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the subscription\'s `whsec_` secret (base64 after the prefix); ' +
      "space-separated, one for each secret that signs now: two or three while a rotated-out secret's overlap lasts. Any one that verifies will do.",
    schema: { type: 'string', examples: ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='] },
  },
];

const ANSWERS: Record<string, { readonly description: string }> = {
  '2XX': {
    description:
      'Received: the delivery has succeeded. Delivery is at least once: a message whose outcome could not be recorded (the database lost, the instance stopped) ' +
      'is sent again, as is one redelivered by hand; drop a duplicate by its webhook-id.',
  },
  '410': { description: 'Gone: the delivery fails at once and the subscription is disabled (PATCH it back to active to re-enable it).' },
  default: {
    description:
      'Any other answer, a redirect (never followed), no connection within WEBHOOK_CONNECT_TIMEOUT_MS or no whole answer (its body included) ' +
      'within WEBHOOK_TIMEOUT_MS is a failed attempt, tried again by the ' +
      'retry schedule (WEBHOOK_RETRY_SCHEDULE, ± 20 %; the delivery fails once it runs out), no sooner than a Retry-After in the answer asks (seconds or an HTTP date, up to ' +
      'WEBHOOK_MAX_RETRY_AFTER_SECONDS). A subscription whose deliveries keep failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled.',
  },
};

function webhook(operationId: string, summary: string, schema: z.ZodType): Webhook {
  const id = z.globalRegistry.get(schema)?.id;
  if (id === undefined) throw new Error(`the schema of webhook ${operationId} has no component id`);
  return {
    post: {
      operationId,
      summary,
      tags: ['notifications'],
      // The receiver asks for no credential: it checks the signature in the headers instead.
      security: [],
      parameters: SIGNED_HEADERS,
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: SCHEMA_REF + id } } } },
      responses: ANSWERS,
    },
  };
}

export const WEBHOOKS: Record<string, Webhook> = {
  event: webhook('receiveEvent', 'An event of a type the subscription\'s topics match was recorded (topic: its type, "<prefix>.*" or "*")', EventMessage),
  [STATUS_CHANGED]: webhook('receiveStatusChange', `A milestone cell's status changed (topic: ${STATUS_CHANGED}, "milestone.*" or "*")`, StatusChangedMessage),
  [TEST_PING]: webhook('receiveTestPing', 'A ping asked for by POST /v1/subscriptions/{id}/test', TestPingMessage),
};
