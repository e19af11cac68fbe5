import { z } from 'zod';

/** What a subscriber receives, on a webhook or in the feed (NotificationMessage in src/domain). */
export const MessageShape = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.iso.datetime(),
  sequence: z.int(),
  data: z.record(z.string(), z.unknown()),
});

/** The data of a milestone.status_changed message, exactly (SPEC §6): version 2, with names and since. */
export const StatusChangeShape = z.strictObject({
  schemaVersion: z.literal(2),
  programId: z.string(),
  programName: z.string(),
  milestone: z.string(),
  milestoneTitle: z.string(),
  consortiumId: z.string().optional(),
  consortiumName: z.string().optional(),
  from: z.string(),
  to: z.string(),
  since: z.strictObject({ value: z.string(), precision: z.string(), start: z.iso.datetime(), end: z.iso.datetime() }),
  certain: z.boolean(),
  causedBy: z.uuid(),
});

/** The part of a status change that says which cell moved and why, for exact comparisons. */
export const transitionOf = ({ programId, milestone, consortiumId, from, to, causedBy }: z.infer<typeof StatusChangeShape>) =>
  consortiumId === undefined ? { programId, milestone, from, to, causedBy } : { programId, milestone, consortiumId, from, to, causedBy };
