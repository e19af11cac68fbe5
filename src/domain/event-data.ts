import { z } from 'zod';
import { FuzzyDateText } from './fuzzy-date.js';
import { BLANK_TEXT_ERROR, SafeText } from './safe-text.js';
import { ConsortiumId, MilestoneKey, ProgramId } from './identifiers.js';

/*
 * The data schema of every event type in the catalogue (SPEC §3), version 1. A released schema is
 * never changed: a new shape becomes schemaVersion 2 with an upcaster from 1.
 * Objects are strict so that a misspelt field is refused rather than silently dropped.
 */

const text = (max: number) => SafeText.trim().min(1, { error: BLANK_TEXT_ERROR }).max(max);
const note = text(2000).optional();

// ---- Reference events: they define what exists.

export const ProgramRegisteredData = z.strictObject({
  programId: ProgramId,
  name: text(200),
  sponsor: text(200).optional(),
  description: text(4000).optional(),
});

export const MILESTONE_SCOPES = ['program', 'consortium'] as const;
export const MilestoneScope = z.enum(MILESTONE_SCOPES);
export type MilestoneScope = z.infer<typeof MilestoneScope>;

/** milestone.planned, version 1 (released): kept to read and to publish; upcast on read to version 2. */
export const MilestonePlannedDataV1 = z.strictObject({
  programId: ProgramId,
  milestone: MilestoneKey,
  title: text(300),
  due: FuzzyDateText.optional(),
  scope: MilestoneScope,
});

/** milestone.planned, version 2: `consortiums` names the enrolled consortiums a consortium-scope milestone concerns. */
export const MilestonePlannedData = MilestonePlannedDataV1.extend({
  consortiums: z
    .array(ConsortiumId)
    .min(1)
    .max(100)
    .refine((ids) => new Set(ids).size === ids.length, 'each consortium once')
    .optional()
    .meta({ description: 'For scope "consortium": the enrolled consortiums it concerns; absent, every enrolled consortium' }),
}).refine((data) => data.scope === 'consortium' || data.consortiums === undefined, {
  message: 'consortiums applies to a consortium-scope milestone only',
  path: ['consortiums'],
});

export const MilestoneRescheduledData = z.strictObject({
  programId: ProgramId,
  milestone: MilestoneKey,
  due: FuzzyDateText,
  reason: note,
});

export const ConsortiumRegisteredData = z.strictObject({
  consortiumId: ConsortiumId,
  name: text(200),
  lead: text(200),
  members: z.array(text(200)).max(100).optional(),
  models: z.array(text(200)).max(100).optional(),
});

export const ConsortiumEnrolledData = z.strictObject({ consortiumId: ConsortiumId, programId: ProgramId });

export const ConsortiumEliminatedData = z.strictObject({
  consortiumId: ConsortiumId,
  programId: ProgramId,
  reason: note,
});

// ---- Fact events: what happened, each possibly bearing on one milestone.

const factSubject = {
  programId: ProgramId.optional(),
  consortiumId: ConsortiumId.optional(),
  milestone: MilestoneKey.optional(),
};

interface FactSubject {
  programId?: string | undefined;
  consortiumId?: string | undefined;
  milestone?: string | undefined;
}

/** A fact names its subject (a program, a consortium or both) and a milestone only within a program. */
function checkFactSubject(data: FactSubject, ctx: z.RefinementCtx): void {
  if (data.programId === undefined && data.consortiumId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['programId'], message: 'a fact names at least one of programId and consortiumId' });
  }
  if (data.milestone !== undefined && data.programId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['programId'], message: 'programId is required when milestone is given' });
  }
}

export const MouSignedData = z
  .strictObject({ parties: z.array(text(200)).min(1).max(50), title: text(300), ...factSubject })
  .superRefine(checkFactSubject);

export const SeminarHeldData = z
  .strictObject({ title: text(300), location: text(200).optional(), ...factSubject })
  .superRefine(checkFactSubject);

export const PilotStartedData = z.strictObject({
  consortiumId: ConsortiumId,
  programId: ProgramId,
  model: text(200).optional(),
  scope: text(2000).optional(),
  milestone: MilestoneKey.optional(),
});

export const PilotCompletedData = z.strictObject({
  consortiumId: ConsortiumId,
  programId: ProgramId,
  outcome: text(2000).optional(),
  milestone: MilestoneKey.optional(),
});

export const ModelAnnouncedData = z
  .strictObject({
    consortiumId: ConsortiumId,
    model: text(200),
    parameters: z.number().int().positive().optional().meta({ description: 'Parameter count, e.g. 500000000000' }),
    modalities: z.array(text(50)).max(20).optional(),
    programId: ProgramId.optional(),
    milestone: MilestoneKey.optional(),
  })
  .superRefine(checkFactSubject);

export const EvaluationHeldData = z.strictObject({
  programId: ProgramId,
  consortiumId: ConsortiumId.optional(),
  outcome: text(2000).optional(),
  milestone: MilestoneKey.optional(),
});

/** Shared by milestone.started / achieved / missed / cancelled. */
export const MilestoneStatusFactData = z.strictObject({
  programId: ProgramId,
  milestone: MilestoneKey,
  consortiumId: ConsortiumId.optional(),
  note,
});

// ---- Correction.

export const EventRetractedData = z.strictObject({
  eventId: z.uuid(),
  reason: text(2000),
});
