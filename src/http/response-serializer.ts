import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';

/** Fastify's own serializer compiler (fast-json-stringify), which takes JSON Schema. */
const compileFromJsonSchema = SerializerSelector()();


/**
 * Serializers by schema: one schema answers many routes (ProblemDetails is every route's 400, 401,
 * …, 503). Compiled for each route and status, 382 of them from 35 schemas, the serializers took 1.4 s
 * of a start's CPU and the conversions to JSON Schema 0.7 s more (found by the probe of restarts
 * under load, which measured up to 8 s to /readyz).
 */
const compiled = new WeakMap<z.ZodType, (data: unknown) => string>();

/**
 * Writes responses as Fastify does by default, with fast-json-stringify compiled once per route and
 * status, from the JSON Schema of the route's zod response schema (the conversion the OpenAPI
 * document is made from). Only declared properties are written, as with zod's own serializer, but an
 * answer is not parsed again before it is written: for a busy program's ~90 KB matrix that parse took
 * a sixth of the process's CPU. The handlers' return types are checked against the schemas when
 * compiling, and the tests check every response they receive against the committed document
 * (test/support/openapi-responses.ts).
 */
export const responseSerializerCompiler = (route: Parameters<FastifySchemaCompiler<unknown>>[0]): ((data: unknown) => string) => {
  const { schema } = route;
  if (!(schema instanceof z.ZodType)) throw new Error(`the response schema of ${route.method} ${route.url} is not a zod schema`);
  const known = compiled.get(schema);
  if (known !== undefined) return known;
  const json = withoutStringChecks(z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' }));
  const serialize = compileFromJsonSchema({ method: route.method, url: route.url, httpStatus: route.httpStatus ?? 'default', schema: json });
  compiled.set(schema, serialize);
  return serialize;
};


/** Keywords whose values are data, not schemas: copied as they are. */
const DATA_KEYWORDS = new Set(['const', 'default', 'enum', 'examples', 'example']);

/**
 * The schema without `pattern`, `format` and `additionalProperties: false`: fast-json-stringify picks a branch of a union by
 * validating the value against it, and zod's uuid and date-time patterns made that check cost more
 * than writing the value. The branches of our unions differ by type, so the choice stays the same.
 */
function withoutStringChecks(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutStringChecks);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      // A property named `pattern` or `format` maps to a schema (an object), a keyword to a string.
      .filter(([key, value]) => !((key === 'pattern' || key === 'format') && typeof value === 'string'))
      // Undeclared properties are never written either way; refusing them would make a union's
      // branch test fail on an object with one more property than its schema, and the answer a 500.
      .filter(([key, value]) => !(key === 'additionalProperties' && value === false))
      .map(([key, value]) => [key, DATA_KEYWORDS.has(key) ? value : withoutStringChecks(value)]),
  );
}
