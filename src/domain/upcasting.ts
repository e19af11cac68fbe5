import type { z } from 'zod';
import { isEventType, type EventType } from './event-catalogue.js';
import { MilestonePlannedDataV1 } from './event-data.js';

/*
 * Stored events keep the schema version they were written with; readers see the current one. Each
 * released version older than the current has its schema (to publish it) and the step that brings
 * its data one version up. A new schema version of a type adds one entry here and changes nothing
 * else on the read side: toRecordedEvent and the registries' readers upcast every event they read.
 */

export interface PastVersion {
  readonly version: number;
  readonly schema: z.ZodType;
  readonly up: (data: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;
}

export const PAST_VERSIONS: { readonly [T in EventType]?: readonly PastVersion[] } = {
  // Version 2 adds the optional `consortiums`: a version 1 plan concerns every enrolled consortium.
  'milestone.planned': [{ version: 1, schema: MilestonePlannedDataV1, up: (data) => data }],
};

export interface VersionedData {
  readonly schemaVersion: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The data of an event of `type` written at `schemaVersion`, brought to the current version. */
export function upcast(type: string, stored: VersionedData): VersionedData {
  if (!isEventType(type)) return stored;
  let { schemaVersion, data } = stored;
  for (const step of PAST_VERSIONS[type] ?? []) {
    if (step.version !== schemaVersion) continue;
    data = step.up(data);
    schemaVersion += 1;
  }
  return { schemaVersion, data };
}
