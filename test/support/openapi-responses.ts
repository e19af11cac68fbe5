import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { z } from 'zod';

const BOARD_PATH = /^\/($|board\/)/;
import { isRecord } from '../../src/http/openapi-document.js';
import { OPENAPI_PATH } from '../../src/http/render-openapi.js';

/*
 * Every response a test receives, checked against the committed OpenAPI document: the status must
 * be declared for the operation, the media type listed under it, a JSON body must match its
 * schema, and each header a client acts on (WATCHED_HEADERS) that it carries must be declared for
 * it. Text bodies (CSV, server-sent events, HTML, Prometheus) are checked for media type only.
 */

/** The headers the service sends that tell a client what to do next, checked as declared where sent. */
const WATCHED_HEADERS = ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'location', 'link', 'content-disposition', 'www-authenticate'];

const MediaType = z.looseObject({ schema: z.unknown().optional() });
const Response = z.looseObject({ content: z.record(z.string(), MediaType).optional(), headers: z.record(z.string(), z.unknown()).optional() });
const Operation = z.looseObject({ operationId: z.string(), responses: z.record(z.string(), Response) });
const Webhook = z.looseObject({
  post: z.looseObject({
    parameters: z.array(z.looseObject({ name: z.string(), in: z.string(), required: z.boolean().optional() })),
    requestBody: z.looseObject({ content: z.looseObject({ 'application/json': MediaType }) }),
  }),
});
const Document = z.looseObject({
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  webhooks: z.record(z.string(), Webhook),
  components: z.looseObject({ schemas: z.record(z.string(), z.unknown()) }),
});
type Document = z.infer<typeof Document>;
type Operation = z.infer<typeof Operation>;

export interface ReceivedResponse {
  readonly method: string;
  /** As requested: the query is ignored. */
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  /** The body as text; '' for none. */
  readonly body: string;
  readonly headers?: Readonly<Record<string, unknown>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const PROBLEM_REF = '#/components/schemas/ProblemDetails';

interface Route {
  readonly path: string;
  readonly pattern: RegExp;
  readonly parameters: number;
}

export class OpenApiResponses {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: readonly Route[];

  private readonly document: Document;

  constructor(committed: Document) {
    ajvFormats.default(this.ajv);
    // The document leaves problems open to members a later release may add (clients ignore what they
    // do not know), but every member this release writes is declared: checked here as closed, a
    // problem carrying one the document does not name fails the test that received it.
    const problemDetails = z.looseObject({}).parse(committed.components.schemas.ProblemDetails);
    this.document = {
      ...committed,
      components: { ...committed.components, schemas: { ...committed.components.schemas, ProblemDetails: { ...problemDetails, additionalProperties: false } } },
    };
    // Literal segments first: /v1/subscriptions/{id}/secret before a pattern it would also match.
    this.routes = Object.keys(committed.paths)
      .map((path) => ({
        path,
        pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        parameters: (path.match(/\{/g) ?? []).length,
      }))
      .sort((a, b) => a.parameters - b.parameters);
  }

  /** The problems with a response, by the operation its method and path resolve to; empty when it conforms. */
  problemsWith(response: ReceivedResponse): string[] {
    const path = pathOf(response.url);
    // HEAD is GET without a body.
    const method = response.method.toLowerCase() === 'head' ? 'get' : response.method.toLowerCase();
    // The status board's page and assets (src/http/routes/board.ts) are not API operations: the
    // document leaves them out on purpose, and test/http/board.test.ts checks what they answer.
    if (BOARD_PATH.test(path) && response.status < 400) return [];
    const route = this.routes.find((r) => r.pattern.test(path));
    const operation = route === undefined ? undefined : this.operation(route.path, method);
    if (route === undefined || operation === undefined) {
      // No such operation: the service answers 404 (or 405) problem+json, which the document cannot list per route.
      return this.check(`${response.method} ${path} (no operation)`, { content: { 'application/problem+json': { schema: { $ref: PROBLEM_REF } } } }, response);
    }
    const name = `${operation.operationId} (${method.toUpperCase()} ${route.path}) ${response.status}`;
    const declared = operation.responses[String(response.status)] ?? operation.responses[`${String(response.status)[0]}XX`];
    if (declared === undefined) {
      return [`${name}: status ${response.status} is not declared (declared: ${Object.keys(operation.responses).join(', ')})`];
    }
    return [
      ...this.check(name, declared, response.method.toLowerCase() === 'head' ? { ...response, body: '' } : response),
      ...undeclaredHeaders(name, declared, response),
    ];
  }

  /**
   * The problems with a webhook the service sent, by the document's `webhooks` entry its `type`
   * names (an event's type names none: `event`): its body must match the entry's schema and carry
   * every header the entry requires. Empty when it conforms.
   */
  problemsWithWebhook(headers: Readonly<Record<string, unknown>>, body: string): string[] {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return [`webhook: the body is not JSON: ${body.slice(0, 200)}`];
    }
    const type = isRecord(message) && typeof message.type === 'string' ? message.type : '';
    const name = Object.hasOwn(this.document.webhooks, type) ? type : 'event';
    const webhook = this.document.webhooks[name];
    if (webhook === undefined) return [`webhook ${type}: the document has no webhooks entry ${name}`];
    const missing = webhook.post.parameters
      .filter((parameter) => parameter.in === 'header' && parameter.required === true && headers[parameter.name.toLowerCase()] === undefined)
      .map((parameter) => `webhook ${name}: header ${parameter.name} is required and was not sent`);
    const messageId = headers['webhook-id'];
    const id = isRecord(message) ? message.id : undefined;
    const mismatched = messageId === undefined || messageId === id ? [] : [`webhook ${name}: the webhook-id header ${String(messageId)} is not the body's id ${String(id)}`];
    const validate = this.validator(`webhook ${name}`, webhook.post.requestBody.content['application/json'].schema);
    if (validate(message)) return [...missing, ...mismatched];
    return [...missing, ...mismatched, ...(validate.errors ?? []).map((e) => `webhook ${name}: ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)];
  }

  /** Throws naming the operation, the status and the schema errors unless the response conforms. */
  assertConforms(response: ReceivedResponse): void {
    const problems = this.problemsWith(response);
    if (problems.length > 0) {
      throw new Error(`response does not match openapi/openapi.json:\n${problems.join('\n')}\nbody: ${response.body.slice(0, 2000)}`);
    }
  }

  private operation(path: string, method: string): Operation | undefined {
    const found = this.document.paths[path]?.[method];
    return found === undefined || !METHODS.some((m) => m === method) ? undefined : Operation.parse(found);
  }

  private check(name: string, declared: z.infer<typeof Response>, response: ReceivedResponse): string[] {
    const content = declared.content ?? {};
    const mediaTypes = Object.keys(content);
    if (response.body === '' && response.contentType === '') {
      return mediaTypes.length === 0 || response.method.toLowerCase() === 'head' ? [] : [`${name}: no body, but the document declares ${mediaTypes.join(', ')}`];
    }
    const mediaType = response.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const media = content[mediaType];
    if (media === undefined) return [`${name}: content type ${mediaType || '(none)'} is not declared (declared: ${mediaTypes.join(', ') || 'no body'})`];
    if (!isJson(mediaType) || response.body === '') return [];
    const validate = this.validator(`${name} ${mediaType}`, media.schema);
    if (validate(JSON.parse(response.body))) return [];
    return (validate.errors ?? []).map((e) => `${name} ${mediaType}: ${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    const cached = this.compiled.get(key);
    if (cached !== undefined) return cached;
    // References point into the document (#/components/schemas/…): the schema is compiled with them beside it.
    const validate = this.ajv.compile({ allOf: [schema ?? {}], components: this.document.components });
    this.compiled.set(key, validate);
    return validate;
  }
}

function undeclaredHeaders(name: string, declared: z.infer<typeof Response>, response: ReceivedResponse): string[] {
  const names = new Set(Object.keys(declared.headers ?? {}).map((header) => header.toLowerCase()));
  const sent = Object.keys(response.headers ?? {}).map((header) => header.toLowerCase());
  return sent.filter((header) => WATCHED_HEADERS.includes(header) && !names.has(header)).map((header) => `${name}: header ${header} is not declared`);
}

const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');

function pathOf(url: string): string {
  const path = url.split('?')[0] ?? url;
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

let loaded: OpenApiResponses | undefined;

/** The committed document's responses; read once per test file. */
export function committedResponses(): OpenApiResponses {
  loaded ??= new OpenApiResponses(Document.parse(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'))));
  return loaded;
}
