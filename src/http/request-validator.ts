import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { closestIds } from '../domain/near-miss.js';
import { cutQuote, shownText } from '../domain/quoted.js';
import type { FieldError } from './problem.js';

/**
 * Query parameters refused before their values are checked: names a route does not take (dropped, a
 * misspelt `asof` or `program` would leave a view answering something else than was asked, the
 * current state or the whole log, with a 200), and names given more than once.
 */
export class RefusedParametersError extends Error {
  constructor(readonly errors: readonly FieldError[]) {
    super(`the query string is not valid: ${errors.map((e) => `${e.parameter ?? ''}: ${e.detail}`).join('; ')}`);
  }
}

const describeUnknown = (name: string, known: readonly string[]): string => {
  const [closest] = closestIds(name, known);
  const takes = known.length === 0 ? 'it takes none' : `it takes ${known.join(', ')}`;
  return `not a parameter of this request (${takes})${closest === undefined ? '' : `; did you mean '${closest}'?`}`;
};

/**
 * A name given more than once arrives as an array, which every parameter's schema refused as
 * "expected string, received array" without saying why (found by the probe of hostile input,
 * 2026-12-07). None takes several: a list is one value, its items separated by commas.
 */
const describeRepeated = (times: number): string =>
  `given ${times} times: give it once (where a parameter takes a list, it is one value, its items separated by commas)`;

/** Zod's validation of each request part, with every querystring strict: a name its schema lacks, or one repeated, is refused. */
export const requestValidatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const validate = validatorCompiler(route);
  const { schema } = route;
  if (route.httpPart !== 'querystring' || !(schema instanceof z.ZodObject)) return validate;
  const known = Object.keys(schema.shape);
  return (data: unknown) => {
    const entries = data !== null && typeof data === 'object' ? Object.entries(data) : [];
    // A name is the client's text, quoted as a value is: cut after 100 characters (until 2026-12-06
    // an 8,000-character name came back whole, twice; found by the probe of unusual text).
    const named = (name: string) => cutQuote(name, shownText);
    const refused: FieldError[] = entries.flatMap(([name, value]): FieldError[] => {
      if (!known.includes(name)) return [{ parameter: named(name), detail: describeUnknown(name, known) }];
      return Array.isArray(value) ? [{ parameter: name, detail: describeRepeated(value.length) }] : [];
    });
    return refused.length === 0 ? validate(data) : { error: new RefusedParametersError(refused) };
  };
};

/**
 * Every route of the API takes only the query parameters it names, none if it names none: given a
 * schema of none, a route refuses any, as requestValidatorCompiler does a name its schema lacks.
 * Dropped, `POST /v1/events?expectedVersion=3` would append without the version check the writer
 * meant. Outside /v1 (the board's page, whose URL carries its view; the operations routes, which
 * monitors may call with parameters of their own) nothing changes. Before the routes.
 */
export function refuseUndeclaredQueries(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && route.schema?.querystring === undefined) {
      route.schema = { ...route.schema, querystring: z.object({}) };
    }
  });
}
