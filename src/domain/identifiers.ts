import { z } from 'zod';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Whether `text` has the form of a program's, consortium's or milestone's id. */
export const isSlug = (text: string): boolean => SLUG.test(text);
const slug = (what: string) =>
  z.string().regex(SLUG, `${what} must be 1-63 lower-case letters, digits or '-', starting with a letter or digit`);

export const ProgramId = slug('programId').meta({ examples: ['defense-ax'] });
export const ConsortiumId = slug('consortiumId').meta({ examples: ['skt'] });
export const MilestoneKey = slug('milestone').meta({ examples: ['lightweight-pilot'] });

export const STREAM_KINDS = ['program', 'consortium'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/** `program:<id>` or `consortium:<id>`: the subject whose history an event belongs to. */
export const StreamName = z
  .string()
  .regex(/^(program|consortium):[a-z0-9][a-z0-9-]{0,62}$/, "stream must be 'program:<id>' or 'consortium:<id>'")
  .meta({ examples: ['consortium:skt'] });

export const streamName = (kind: StreamKind, id: string): string => `${kind}:${id}`;
