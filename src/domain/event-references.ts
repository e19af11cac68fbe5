import type { MilestoneScope } from './event-data.js';
import type { EventPayload } from './event-catalogue.js';
import { streamName } from './identifiers.js';

export type ReferenceKind = 'program' | 'consortium' | 'milestone' | 'enrolment' | 'participant';

/** Something an event brings into existence. */
export interface ReferenceDefinition {
  readonly kind: ReferenceKind;
  readonly key: string;
  /** A milestone's: 'participants' for a consortium-scope milestone that concerns some consortiums only. */
  readonly scope?: MilestoneScope | 'participants';
}

/**
 * Something that must exist before the event. For a milestone, `enrolment` names the enrolment
 * that a consortium-scope milestone needs (absent when the event names no consortium).
 */
export interface ReferenceRequirement {
  readonly kind: ReferenceKind;
  readonly key: string;
  /** Where the event's data names it, as a JSON pointer below the data (`consortiums/0`): what a refusal points at. */
  readonly field: string;
  readonly enrolment?: string;
  /** For a milestone that concerns some consortiums only: the participation the fact needs. */
  readonly participant?: string;
  /** A milestone named as a whole (a reschedule), whatever its scope: no consortium needed. */
  readonly wholeMilestone?: true;
}

/** Who or what an event is about; `stream` is unknown for a retraction until its target is looked up. */
export interface EventSubject {
  readonly stream: string | undefined;
  readonly programId: string | undefined;
  readonly consortiumId: string | undefined;
  readonly milestone: string | undefined;
  readonly retracts: string | undefined;
  readonly requires: readonly ReferenceRequirement[];
  readonly defines: readonly ReferenceDefinition[];
}

export const milestoneKey = (programId: string, milestone: string): string => `${programId}/${milestone}`;
export const enrolmentKey = (consortiumId: string, programId: string): string => `${consortiumId}@${programId}`;
export const participantKey = (consortiumId: string, programId: string, milestone: string): string =>
  `${consortiumId}@${programId}/${milestone}`;

interface FactData {
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  readonly milestone?: string | undefined;
}

function factSubject(data: FactData): EventSubject {
  const { programId, consortiumId, milestone } = data;
  const requires: ReferenceRequirement[] = [];
  if (programId !== undefined) requires.push({ kind: 'program', key: programId, field: 'programId' });
  if (consortiumId !== undefined) requires.push({ kind: 'consortium', key: consortiumId, field: 'consortiumId' });
  if (programId !== undefined && milestone !== undefined) {
    requires.push({
      kind: 'milestone',
      key: milestoneKey(programId, milestone),
      field: 'milestone',
      ...(consortiumId !== undefined && {
        enrolment: enrolmentKey(consortiumId, programId),
        participant: participantKey(consortiumId, programId, milestone),
      }),
    });
  }
  // A fact about a consortium in a program it is not enrolled in would never show in its status.
  if (programId !== undefined && consortiumId !== undefined) requires.push({ kind: 'enrolment', key: enrolmentKey(consortiumId, programId), field: 'consortiumId' });
  const stream =
    consortiumId !== undefined ? streamName('consortium', consortiumId) : streamName('program', programId ?? '');
  return { stream, programId, consortiumId, milestone, retracts: undefined, requires, defines: [] };
}

const about = (
  stream: string,
  subject: Partial<Pick<EventSubject, 'programId' | 'consortiumId' | 'milestone' | 'requires' | 'defines'>>,
): EventSubject => ({
  stream,
  programId: subject.programId,
  consortiumId: subject.consortiumId,
  milestone: subject.milestone,
  retracts: undefined,
  requires: subject.requires ?? [],
  defines: subject.defines ?? [],
});

/** Derives an event's stream, subject and the references it needs or defines (SPEC §3). */
export function subjectOf(event: EventPayload): EventSubject {
  switch (event.type) {
    case 'program.registered': {
      const { programId } = event.data;
      return about(streamName('program', programId), { programId, defines: [{ kind: 'program', key: programId }] });
    }
    case 'milestone.planned': {
      const { programId, milestone, scope, consortiums } = event.data;
      return about(streamName('program', programId), {
        programId,
        milestone,
        // The consortiums a plan names must exist (their enrolment may come later).
        requires: [
          { kind: 'program', key: programId, field: 'programId' },
          ...(consortiums ?? []).map((c, i): ReferenceRequirement => ({ kind: 'consortium', key: c, field: `consortiums/${i}` })),
        ],
        defines: [
          { kind: 'milestone', key: milestoneKey(programId, milestone), scope: consortiums === undefined ? scope : 'participants' },
          ...(consortiums ?? []).map((c): ReferenceDefinition => ({ kind: 'participant', key: participantKey(c, programId, milestone) })),
        ],
      });
    }
    case 'milestone.rescheduled': {
      const { programId, milestone } = event.data;
      return about(streamName('program', programId), {
        programId,
        milestone,
        requires: [
          { kind: 'program', key: programId, field: 'programId' },
          { kind: 'milestone', key: milestoneKey(programId, milestone), field: 'milestone', wholeMilestone: true },
        ],
      });
    }
    case 'consortium.registered': {
      const { consortiumId } = event.data;
      return about(streamName('consortium', consortiumId), {
        consortiumId,
        defines: [{ kind: 'consortium', key: consortiumId }],
      });
    }
    case 'consortium.enrolled': {
      const { consortiumId, programId } = event.data;
      return about(streamName('consortium', consortiumId), {
        consortiumId,
        programId,
        requires: [
          { kind: 'consortium', key: consortiumId, field: 'consortiumId' },
          { kind: 'program', key: programId, field: 'programId' },
        ],
        defines: [{ kind: 'enrolment', key: enrolmentKey(consortiumId, programId) }],
      });
    }
    case 'consortium.eliminated': {
      const { consortiumId, programId } = event.data;
      return about(streamName('consortium', consortiumId), {
        consortiumId,
        programId,
        requires: [
          { kind: 'consortium', key: consortiumId, field: 'consortiumId' },
          { kind: 'program', key: programId, field: 'programId' },
          { kind: 'enrolment', key: enrolmentKey(consortiumId, programId), field: 'consortiumId' },
        ],
      });
    }
    case 'mou.signed':
    case 'seminar.held':
    case 'pilot.started':
    case 'pilot.completed':
    case 'model.announced':
    case 'evaluation.held':
    case 'milestone.started':
    case 'milestone.achieved':
    case 'milestone.missed':
    case 'milestone.cancelled':
      return factSubject(event.data);
    case 'event.retracted':
      return {
        stream: undefined,
        programId: undefined,
        consortiumId: undefined,
        milestone: undefined,
        retracts: event.data.eventId,
        requires: [],
        defines: [],
      };
    default: {
      const unknownType: never = event;
      throw new Error(`no subject rule for ${JSON.stringify(unknownType)}`);
    }
  }
}
