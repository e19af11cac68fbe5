import { isDeepStrictEqual } from 'node:util';
import { PROBLEM_MEDIA_TYPE } from './problem.js';

const JSON_MEDIA_TYPE = 'application/json';
const CSV_MEDIA_TYPE = 'text/csv';
/** Where a reference to a component schema points: `${SCHEMA_REF}<name>`. */
export const SCHEMA_REF = '#/components/schemas/';
const PROBLEM_REF = `${SCHEMA_REF}ProblemDetails`;

/** A JSON object of the generated document (not an array, not null). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Makes the generated document say what the service sends, in the one place every route passes:
 * - a problem answer (a ProblemDetails schema) is `application/problem+json`, not `application/json`;
 * - a route that `produces` text/csv answers CSV text for its successes, and problems only as problem+json.
 * - a body schema that admits null (`.nullish()`) is a body the client may leave out: Fastify hands
 *   an empty POST over as null, and @fastify/swagger marks every body required.
 * Fastify's `produces` copies one schema under every media type; this sorts them out.
 */
export function describeMediaTypes(paths: unknown): void {
  for (const operation of operationsOf(paths)) {
    if (isRecord(operation.requestBody)) describeOptionalBody(operation.requestBody);
    for (const [status, response] of responsesOf(operation)) {
      if (isRecord(response.content)) response.content = mediaTypesOf(status, response.content);
    }
  }
}

/** Every operation of the document's paths, to be described further in place. */
export function* operationsOf(paths: unknown): Generator<Record<string, unknown>> {
  if (!isRecord(paths)) return;
  for (const pathItem of Object.values(paths)) {
    if (!isRecord(pathItem)) continue;
    for (const operation of Object.values(pathItem)) if (isRecord(operation)) yield operation;
  }
}

/** An operation's responses by status. */
export function* responsesOf(operation: Record<string, unknown>): Generator<[string, Record<string, unknown>]> {
  if (!isRecord(operation.responses)) return;
  for (const [status, response] of Object.entries(operation.responses)) if (isRecord(response)) yield [status, response];
}

function mediaTypesOf(status: string, content: Record<string, unknown>): Record<string, unknown> {
  const json = content[JSON_MEDIA_TYPE];
  if (isProblem(json)) return { [PROBLEM_MEDIA_TYPE]: json };
  if (CSV_MEDIA_TYPE in content && status.startsWith('2')) {
    return { ...content, [CSV_MEDIA_TYPE]: { schema: { type: 'string', description: 'RFC 4180 text with a header row' } } };
  }
  return content;
}

const isProblem = (mediaType: unknown): boolean =>
  isRecord(mediaType) && isRecord(mediaType.schema) && mediaType.schema.$ref === PROBLEM_REF;

function describeOptionalBody(requestBody: Record<string, unknown>): void {
  const media = isRecord(requestBody.content) ? requestBody.content[JSON_MEDIA_TYPE] : undefined;
  if (!isRecord(media) || !isRecord(media.schema) || !Array.isArray(media.schema.anyOf)) return;
  const branches: unknown[] = media.schema.anyOf;
  const isNull = (branch: unknown) => isRecord(branch) && branch.type === 'null';
  if (!branches.some(isNull)) return;
  const [body, ...more] = branches.filter((branch) => !isNull(branch));
  requestBody.required = false;
  if (body !== undefined && more.length === 0) media.schema = body;
}

// fastify-type-provider-zod names a schema's input form `<id>Input` beside its output form `<id>`.
const INPUT_SUFFIX = 'Input';

/**
 * Keeps only the component schemas the document refers to, and names a request body's schema by
 * its own name. The type provider publishes every schema with an id twice, as the service reads it
 * (`…Input`) and as it writes it, whether an operation uses it or not: a client generated from the
 * document got both, 29 of 62 unused, and request bodies under names such as `NewApiKeyInput`
 * beside an unused `NewApiKey` (found by the probe of the OpenAPI document).
 */
export function keepReferencedSchemas(document: { paths?: unknown; components?: unknown }): void {
  const { components } = document;
  if (!isRecord(components) || !isRecord(components.schemas)) return;
  const schemas = components.schemas;
  // Everything but the schemas themselves refers to what must be kept: paths, webhooks, the other components.
  const roots = { ...document, components: { ...components, schemas: {} } };
  const kept = new Set<string>();
  const pending = refsIn(roots);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (kept.has(name) || !(name in schemas)) continue;
    kept.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  // A twin the same as its output form (a source's, read as written) is that form.
  const nameOf = (name: string): string => {
    const natural = name.endsWith(INPUT_SUFFIX) ? name.slice(0, -INPUT_SUFFIX.length) : name;
    return natural !== name && (!kept.has(natural) || isDeepStrictEqual(schemas[natural], schemas[name])) ? natural : name;
  };
  const renamed: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) if (kept.has(name)) renamed[nameOf(name)] = schema;
  components.schemas = renamed;
  renameRefs(document, nameOf);
}

/** The name of the schema a `#/components/schemas/…` reference points into. */
const schemaNamed = (ref: string): string => ref.slice(SCHEMA_REF.length).split('/')[0] ?? '';

/** The component schemas `value` refers to, at any depth. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!isRecord(value)) return [];
  // A reference into a schema (…/Event/properties/data) keeps the whole schema.
  const own = typeof value.$ref === 'string' && value.$ref.startsWith(SCHEMA_REF) ? [schemaNamed(value.$ref)] : [];
  return [...own, ...Object.values(value).flatMap(refsIn)];
}

function renameRefs(value: unknown, nameOf: (name: string) => string): void {
  if (Array.isArray(value)) for (const item of value) renameRefs(item, nameOf);
  if (!isRecord(value)) return;
  if (typeof value.$ref === 'string' && value.$ref.startsWith(SCHEMA_REF)) {
    const name = schemaNamed(value.$ref);
    value.$ref = SCHEMA_REF + nameOf(name) + value.$ref.slice(SCHEMA_REF.length + name.length);
  }
  for (const member of Object.values(value)) renameRefs(member, nameOf);
}
