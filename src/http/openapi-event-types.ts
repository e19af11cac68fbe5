import { z } from 'zod';
import { EVENT_DATA_SCHEMAS, EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from '../domain/event-catalogue.js';
import { isRecord, SCHEMA_REF } from './openapi-document.js';

/*
 * The events the service answers with, narrowed by their type in the document: an event is its
 * envelope and one of the catalogue's types, each with that type's current data schema (stored
 * events are upcast on read, so every one has it). A client generated from the document gets
 * `data` typed once it has looked at `type` (until 2026-12-07, `data` was an open object on every
 * read path and in the event webhook, while the write side had one branch a type; found by the
 * probe of a client generated from the document). Only the document says it: the responses are
 * still written from the envelope's own schema, which would have to try each branch of a union for
 * every event of a page (src/http/response-serializer.ts), and the suite checks every answer it
 * receives against the document (test/support/openapi-responses.ts).
 */

/** The component every narrowed envelope refers to: one of the types, chosen by `type`. */
const BY_TYPE = 'EventOfType';

/** `milestone.started` → `MilestoneStartedEvent`. */
const componentOf = (type: EventType): string =>
  `${type
    .split(/[.\-_]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}Event`;

/** What an event of `type` has beyond its envelope: its type, its data's version and its data. */
function typeSchema(type: EventType): Record<string, unknown> {
  // Throws on what JSON Schema cannot say (a transform): the document would say less than the data.
  const { $schema: _, ...data } = z.toJSONSchema(EVENT_DATA_SCHEMAS[type], { io: 'output' });
  return {
    type: 'object',
    description: `An event of type ${type}: ${EVENT_TYPES[type].summary}`,
    properties: {
      type: { type: 'string', const: type },
      schemaVersion: { type: 'integer', const: EVENT_TYPES[type].schemaVersion },
      data,
    },
    required: ['type', 'schemaVersion', 'data'],
  };
}

/**
 * Adds a component for each event type and `EventOfType`, their union, and makes each of
 * the `envelopes` named (components whose events the service writes) the envelope and that union.
 */
export function describeEventsByType(document: { paths?: unknown; components?: unknown }, envelopes: readonly string[]): void {
  const { components } = document;
  if (!isRecord(components) || !isRecord(components.schemas)) return;
  const schemas = components.schemas;
  for (const name of [...EVENT_TYPE_NAMES.map(componentOf), BY_TYPE]) {
    if (name in schemas) throw new Error(`the document has a component ${name} already: an event type's would replace it`);
  }
  for (const type of EVENT_TYPE_NAMES) schemas[componentOf(type)] = typeSchema(type);
  schemas[BY_TYPE] = {
    description:
      "The event's type with its data, as the catalogue (GET /v1/event-types) has them now. A later release may add a type, " +
      'or a version of one: a client that validates events against this document refuses those until it takes the new document.',
    // No discriminator: each branch's `type` is a const, which picks one; and a schema with a
    // discriminator that an allOf refers to makes generators read the referrer as one of its
    // subtypes (openapi-typescript typed `Event`'s `type` as "Event", the review of the day).
    oneOf: EVENT_TYPE_NAMES.map((type) => ({ $ref: SCHEMA_REF + componentOf(type) })),
  };
  for (const name of envelopes) {
    const envelope = schemas[name];
    if (!isRecord(envelope)) throw new Error(`the document has no component ${name} to narrow by event type`);
    const { examples, description, ...rest } = envelope;
    schemas[name] = {
      ...(description !== undefined && { description }),
      allOf: [rest, { $ref: SCHEMA_REF + BY_TYPE }],
      ...(examples !== undefined && { examples }),
    };
  }
}
