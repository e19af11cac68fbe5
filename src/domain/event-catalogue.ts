import type { z } from 'zod';
import {
  ConsortiumEliminatedData,
  ConsortiumEnrolledData,
  ConsortiumRegisteredData,
  EvaluationHeldData,
  EventRetractedData,
  MilestonePlannedData,
  MilestoneRescheduledData,
  MilestoneStatusFactData,
  ModelAnnouncedData,
  MouSignedData,
  PilotCompletedData,
  PilotStartedData,
  ProgramRegisteredData,
  SeminarHeldData,
} from './event-data.js';
import type { MilestoneStatus } from './milestone-status.js';

export type EventKind = 'reference' | 'fact' | 'correction';

/**
 * How an event bears on milestone cells (SPEC §3–§4): it registers a program or a consortium, plans
 * or reschedules a milestone (every cell of it), enrols or eliminates a consortium (its cells in the
 * program), is a fact about the cell it names, or retracts another event (whatever that one bore on).
 */
export type CellRole = 'program' | 'consortium' | 'plan' | 'reschedule' | 'enrolment' | 'elimination' | 'fact' | 'retraction';

export interface EventTypeInfo {
  readonly schemaVersion: number;
  readonly kind: EventKind;
  readonly role: CellRole;
  readonly summary: string;
  /** The status the event gives the cells it bears on (SPEC §3). */
  readonly effect?: MilestoneStatus;
  /** The effect applies only to a cell still planned or in progress: it never undoes an end. */
  readonly onlyWhileOpen?: true;
}

/**
 * The catalogue of SPEC §3: each released type name, the current version of its data schema, and
 * what it means. A name is never renamed or reused.
 */
export const EVENT_TYPES = {
  'program.registered': { schemaVersion: 1, kind: 'reference', role: 'program', summary: 'A program exists.' },
  'milestone.planned': {
    schemaVersion: 2,
    kind: 'reference',
    role: 'plan',
    summary: 'A program plans a milestone, for every enrolled consortium or for some.',
  },
  'milestone.rescheduled': { schemaVersion: 1, kind: 'reference', role: 'reschedule', summary: "A milestone's due date moves." },
  'consortium.registered': { schemaVersion: 1, kind: 'reference', role: 'consortium', summary: 'A consortium exists.' },
  'consortium.enrolled': { schemaVersion: 1, kind: 'reference', role: 'enrolment', summary: 'A consortium joins a program.' },
  'consortium.eliminated': {
    schemaVersion: 1,
    kind: 'reference',
    role: 'elimination',
    summary: 'A consortium leaves a program; its open milestones there are cancelled.',
    effect: 'cancelled',
    onlyWhileOpen: true,
  },
  'mou.signed': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A memorandum of understanding was signed.', effect: 'achieved' },
  'seminar.held': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A seminar or presentation took place.', effect: 'achieved' },
  'pilot.started': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A pilot began.', effect: 'in_progress', onlyWhileOpen: true },
  'pilot.completed': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A pilot ended.', effect: 'achieved' },
  'model.announced': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A model was announced.', effect: 'achieved' },
  'evaluation.held': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'An evaluation took place.', effect: 'achieved' },
  'milestone.started': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'Work on a milestone began.', effect: 'in_progress', onlyWhileOpen: true },
  'milestone.achieved': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A milestone was reached.', effect: 'achieved' },
  'milestone.missed': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A milestone was missed.', effect: 'missed' },
  'milestone.cancelled': { schemaVersion: 1, kind: 'fact', role: 'fact', summary: 'A milestone was called off.', effect: 'cancelled' },
  'event.retracted': {
    schemaVersion: 1,
    kind: 'correction',
    role: 'retraction',
    summary: 'An earlier event was wrong: every view behaves as if it had never been recorded.',
  },
} as const satisfies Record<string, EventTypeInfo>;

export type EventType = keyof typeof EVENT_TYPES;

/** The data schema of each type, current version. */
export const EVENT_DATA_SCHEMAS = {
  'program.registered': ProgramRegisteredData,
  'milestone.planned': MilestonePlannedData,
  'milestone.rescheduled': MilestoneRescheduledData,
  'consortium.registered': ConsortiumRegisteredData,
  'consortium.enrolled': ConsortiumEnrolledData,
  'consortium.eliminated': ConsortiumEliminatedData,
  'mou.signed': MouSignedData,
  'seminar.held': SeminarHeldData,
  'pilot.started': PilotStartedData,
  'pilot.completed': PilotCompletedData,
  'model.announced': ModelAnnouncedData,
  'evaluation.held': EvaluationHeldData,
  'milestone.started': MilestoneStatusFactData,
  'milestone.achieved': MilestoneStatusFactData,
  'milestone.missed': MilestoneStatusFactData,
  'milestone.cancelled': MilestoneStatusFactData,
  'event.retracted': EventRetractedData,
} as const satisfies Record<EventType, z.ZodType>;

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES).filter(isEventType);

export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_TYPES, name);
}

/** A type name and its data, as one value whose `data` narrows with `type`. */
export type EventPayload = {
  [T in EventType]: { readonly type: T; readonly data: z.output<(typeof EVENT_DATA_SCHEMAS)[T]> };
}[EventType];

/** What the catalogue says of a type, widened so that optional fields can be read. */
export function infoOf(type: EventType): EventTypeInfo {
  return EVENT_TYPES[type];
}
