import { z } from 'zod';

export const MILESTONE_STATUSES = ['planned', 'in_progress', 'achieved', 'missed', 'cancelled'] as const;
export const MilestoneStatus = z.enum(MILESTONE_STATUSES);
export type MilestoneStatus = z.infer<typeof MilestoneStatus>;
