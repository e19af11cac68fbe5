import { SubjectNotFoundError } from '../domain/errors.js';
import type { FuzzyDate } from '../domain/fuzzy-date.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import { byWorldTime, eventsInForce, foldProgram, isOverdue, type FoldedMilestone, type MilestoneCell } from '../domain/status-fold.js';
import type { Db } from '../store/database.js';
import { selectEvents } from '../store/event-store.js';
import { findConsortiumCells, findProgramCells, type StoredCell } from '../store/milestone-cells.js';

/**
 * World-time and system-time cut-offs of a view. Without either, cells come from the projection
 * kept in the append transaction; with one, from a replay of the log up to the cut-off.
 */
export interface Cutoff {
  readonly asOf?: Date | undefined;
  readonly knownAt?: Date | undefined;
}

const isCut = (cutoff: Cutoff) => cutoff.asOf !== undefined || cutoff.knownAt !== undefined;

export interface ProgramSummary {
  readonly programId: string;
  readonly name: string;
  readonly sponsor: string | undefined;
  readonly description: string | undefined;
  readonly registeredAt: FuzzyDate;
}

export interface ConsortiumSummary {
  readonly consortiumId: string;
  readonly name: string;
  readonly lead: string;
  readonly members: readonly string[];
  readonly models: readonly string[];
  readonly registeredAt: FuzzyDate;
}

const str = (e: RecordedEvent, field: string): string | undefined => {
  const value = e.data[field];
  return typeof value === 'string' ? value : undefined;
};
const strings = (e: RecordedEvent, field: string): string[] => {
  const value = e.data[field];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
};

const toProgram = (e: RecordedEvent): ProgramSummary => ({
  programId: str(e, 'programId') ?? '',
  name: str(e, 'name') ?? '',
  sponsor: str(e, 'sponsor'),
  description: str(e, 'description'),
  registeredAt: e.occurredAt,
});

const toConsortium = (e: RecordedEvent): ConsortiumSummary => ({
  consortiumId: str(e, 'consortiumId') ?? '',
  name: str(e, 'name') ?? '',
  lead: str(e, 'lead') ?? '',
  members: strings(e, 'members'),
  models: strings(e, 'models'),
  registeredAt: e.occurredAt,
});

async function eventsOfType(db: Db, type: string, cutoff: Cutoff, now: Date): Promise<RecordedEvent[]> {
  return eventsInForce(await selectEvents(db, { types: [type] }), { ...cutoff, now }).filter((e) => e.type === type);
}

export async function listPrograms(db: Db, cutoff: Cutoff, now: Date): Promise<ProgramSummary[]> {
  return (await eventsOfType(db, 'program.registered', cutoff, now)).map(toProgram);
}

export async function listConsortiums(db: Db, cutoff: Cutoff, now: Date): Promise<ConsortiumSummary[]> {
  return (await eventsOfType(db, 'consortium.registered', cutoff, now)).map(toConsortium);
}

export interface ProgramView {
  readonly program: ProgramSummary;
  readonly milestones: readonly FoldedMilestone[];
}

/** A program and its milestones, each with its cells: from the projection, or replayed to a cut-off. */
export async function viewProgram(db: Db, programId: string, cutoff: Cutoff, now: Date): Promise<ProgramView> {
  const events = await selectEvents(db, { programId });
  const registered = eventsInForce(events, { ...cutoff, now }).find((e) => e.type === 'program.registered');
  if (registered === undefined) throw new SubjectNotFoundError('program', programId);
  const folded = foldProgram(programId, events, { ...cutoff, now });
  if (isCut(cutoff)) return { program: toProgram(registered), milestones: folded };
  const stored = await findProgramCells(db, programId);
  return {
    program: toProgram(registered),
    milestones: folded.map((m) => ({
      ...m,
      cells: stored.filter((c) => c.milestone === m.milestone).map((c) => withOverdue(c, now)),
    })),
  };
}

export async function viewMilestone(db: Db, programId: string, milestone: string, cutoff: Cutoff, now: Date): Promise<FoldedMilestone> {
  const view = await viewProgram(db, programId, cutoff, now);
  const found = view.milestones.find((m) => m.milestone === milestone);
  if (found === undefined) throw new SubjectNotFoundError('milestone', `${programId}/${milestone}`);
  return found;
}

const withOverdue = (cell: StoredCell, now: Date): MilestoneCell => ({
  ...cell,
  overdue: isOverdue(cell.status, cell.due, now),
});

export interface ConsortiumProgramView {
  readonly program: ProgramSummary;
  readonly enrolledAt: FuzzyDate;
  readonly eliminatedAt: FuzzyDate | undefined;
  readonly milestones: readonly { readonly title: string; readonly scope: string; readonly cell: MilestoneCell }[];
}

export interface ConsortiumView {
  readonly consortium: ConsortiumSummary;
  readonly programs: readonly ConsortiumProgramView[];
}

/** A consortium, each program it is enrolled in, and its cells there (and the program-wide ones). */
export async function viewConsortium(db: Db, consortiumId: string, cutoff: Cutoff, now: Date): Promise<ConsortiumView> {
  const own = eventsInForce(await selectEvents(db, { consortiumId }), { ...cutoff, now });
  const registered = own.find((e) => e.type === 'consortium.registered');
  if (registered === undefined) throw new SubjectNotFoundError('consortium', consortiumId);
  const enrolments = own.filter((e) => e.type === 'consortium.enrolled');
  const programIds = enrolments.map((e) => str(e, 'programId') ?? '');
  const stored = isCut(cutoff) ? [] : await findConsortiumCells(db, consortiumId, programIds);

  const programs = await Promise.all(
    enrolments.map(async (enrolment) => {
      const programId = str(enrolment, 'programId') ?? '';
      // World-time order of definitions is not enforced: at a cut-off the program may not exist yet.
      const view = await viewProgram(db, programId, cutoff, now).catch((error: unknown) => {
        if (error instanceof SubjectNotFoundError) return undefined;
        throw error;
      });
      if (view === undefined) return undefined;
      const eliminated = own.find((e) => e.type === 'consortium.eliminated' && str(e, 'programId') === programId);
      const mine = (cell: MilestoneCell) => cell.consortiumId === undefined || cell.consortiumId === consortiumId;
      return {
        program: view.program,
        enrolledAt: enrolment.occurredAt,
        eliminatedAt: eliminated?.occurredAt,
        milestones: view.milestones.flatMap((m) => {
          const cells = isCut(cutoff)
            ? m.cells.filter(mine)
            : stored.filter((c) => c.programId === programId && c.milestone === m.milestone).map((c) => withOverdue(c, now));
          return cells.map((cell) => ({ title: m.title, scope: m.scope, cell }));
        }),
      };
    }),
  );
  return { consortium: toConsortium(registered), programs: programs.filter((p) => p !== undefined) };
}

export interface TimelineEntry {
  readonly event: RecordedEvent;
  readonly retractedBy: string | undefined;
}

export interface TimelineQuery {
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  /** Events whose occurredAt begins at or after `from` and before `to`. */
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
}

/** Events in world-time order, retracted ones marked with the retraction that undid them. */
export async function timeline(db: Db, query: TimelineQuery, cutoff: Cutoff): Promise<TimelineEntry[]> {
  const known = (await selectEvents(db, { programId: query.programId, consortiumId: query.consortiumId })).filter(
    (e) => cutoff.knownAt === undefined || e.recordedAt <= cutoff.knownAt,
  );
  const retractions = new Map(known.filter((e) => e.type === 'event.retracted').map((r) => [str(r, 'eventId') ?? '', r.id]));
  const inForceOrRetracted = known.filter((e) => e.type !== 'event.retracted');
  const { asOf } = cutoff;
  return inForceOrRetracted
    .filter((e) => asOf === undefined || e.occurredAt.start <= asOf)
    .filter((e) => query.from === undefined || e.occurredAt.start >= query.from)
    .filter((e) => query.to === undefined || e.occurredAt.start < query.to)
    .sort(byWorldTime)
    .map((event) => ({ event, retractedBy: retractions.get(event.id) }));
}
