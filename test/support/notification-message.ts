import { z } from 'zod';

/** What a subscriber receives, on a webhook or in the feed (NotificationMessage in src/domain). */
export const MessageShape = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.iso.datetime(),
  sequence: z.int(),
  data: z.record(z.string(), z.unknown()),
});

/** The data of a milestone.status_changed message, exactly (SPEC §6). */
export const StatusChangeShape = z.strictObject({
  programId: z.string(),
  milestone: z.string(),
  consortiumId: z.string().optional(),
  from: z.string(),
  to: z.string(),
  causedBy: z.uuid(),
});
