import { LRUCache } from 'lru-cache';
import { SubjectNotFoundError } from '../domain/errors.js';
import {
  ConsortiumRegisteredData,
  MilestonePlannedData,
  MilestoneRescheduledData,
  ProgramRegisteredData,
  type MilestoneScope,
} from '../domain/event-data.js';
import { parseFuzzyDate, type FuzzyDate } from '../domain/fuzzy-date.js';
import type { MilestoneStatus } from '../domain/milestone-status.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import { certainBy, lastCovered, type Cutoff } from '../domain/cut-off.js';
import { closestIds, closestReferences } from '../domain/near-miss.js';
import { isOverdue } from '../domain/status-rules.js';
import { upcast } from '../domain/upcasting.js';
import type { Db } from '../store/database.js';
import { findEventsByIds, readTimeline } from '../store/event-store.js';
import { findReferenceCandidates } from '../store/references.js';
import { createCutoffSettler, createPageSettler, type SettledPage } from './settled-cutoff.js';
import { toEvidenceEntry, type EvidenceEntry } from '../domain/evidence.js';
import { decodeIdCursor, decodeWorldCursor, encodeIdCursor, encodeWorldCursor } from '../store/page-cursor.js';
import type { CursorScope } from '../store/cursor-scope.js';
import { findCellEvidence, findCells, type CellState } from '../store/cell-states.js';
import { findConsortiumEntries, findConsortiumParts, findProgramParts, findProgramEntries, isRegistered, type MilestoneEntry } from '../store/read-model.js';
import type { Definition } from '../store/read-rows.js';

/*
 * The views of SPEC §5, answered from the read model at a cut-off: asOf (world time: events that had
 * begun by then, and "now" for overdue) and knownAt (system time: events recorded by then). Without
 * either, the current state. Each view is a fixed number of index look-ups per row it returns.
 */

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

export interface MilestoneCell {
  readonly programId: string;
  readonly milestone: string;
  /** Absent for a program-scope milestone. */
  readonly consortiumId: string | undefined;
  readonly status: MilestoneStatus;
  readonly since: FuzzyDate;
  readonly due: FuzzyDate | undefined;
  readonly overdue: boolean;
  /** Whether the event that set the status had certainly happened by the cut-off (its interval ended). */
  readonly certain: boolean;
  /** Every event that bears on the cell at the cut-off. */
  readonly evidenceCount: number;
  /** The latest of them, newest first in world time. */
  readonly evidence: readonly string[];
  /** The same, each with its type, date, title and sources, when the view was asked to expand them. */
  readonly evidenceEntries: readonly EvidenceEntry[] | undefined;
}

export interface MilestoneView {
  readonly programId: string;
  readonly milestone: string;
  readonly title: string;
  readonly scope: MilestoneScope;
  readonly due: FuzzyDate | undefined;
  readonly cells: readonly MilestoneCell[];
}

export interface Paged<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | undefined;
}

const PROGRAMS: CursorScope = { list: 'programs' };
const CONSORTIUMS: CursorScope = { list: 'consortiums' };

const toProgram = (programId: string, entry: Definition): ProgramSummary => {
  const data = ProgramRegisteredData.parse(entry.data);
  return { programId, name: data.name, sponsor: data.sponsor, description: data.description, registeredAt: entry.occurredAt };
};

const toConsortium = (consortiumId: string, entry: Definition): ConsortiumSummary => {
  const data = ConsortiumRegisteredData.parse(entry.data);
  return {
    consortiumId,
    name: data.name,
    lead: data.lead,
    members: data.members ?? [],
    models: data.models ?? [],
    registeredAt: entry.occurredAt,
  };
};

/** The status views of SPEC §5, each at a cut-off: programs, consortiums, milestones, the timeline and a cell's evidence. */
export interface StatusViews {
  /**
   * The cut-off a view answers at: a knownAt not settled yet (an append recorded before it may still
   * commit, or it is in the future) is answered at the first instant not settled, and echoed as such,
   * so that an answer about a past K never changes (store/known-horizon.ts).
   */
  readonly settle: (cutoff: Cutoff) => Promise<Cutoff>;
  /** The same for a page of a list, whose cursor keeps the instant the list was answered at (settled-cutoff.ts). */
  readonly settlePage: (cutoff: Cutoff, after: string | undefined) => Promise<SettledPage>;
  readonly listPrograms: (cutoff: Cutoff, page: { after: string | undefined; limit: number }) => Promise<Paged<ProgramSummary>>;
  readonly listConsortiums: (cutoff: Cutoff, page: { after: string | undefined; limit: number }) => Promise<Paged<ConsortiumSummary>>;
  readonly viewProgramPlan: (programId: string, cutoff: Cutoff) => Promise<ProgramPlan>;
  readonly viewProgram: (programId: string, cutoff: Cutoff, now: Date, options: ViewOptions) => Promise<ProgramView>;
  readonly viewMilestone: (programId: string, milestone: string, cutoff: Cutoff, now: Date, options: ViewOptions) => Promise<MilestoneView>;
  readonly viewConsortium: (consortiumId: string, cutoff: Cutoff, now: Date, options: ViewOptions, page: { after: string | undefined; limit: number }) => Promise<ConsortiumView>;
  readonly timeline: (query: TimelineQuery, cutoff: Cutoff, page: { after: string | undefined; limit: number }) => Promise<Paged<TimelineEntry>>;
  readonly cellEvidence: (cell: CellRef, cutoff: Cutoff, page: { after: string | undefined; limit: number }) => Promise<Paged<EvidenceEntry>>;
}

export function createStatusViews(db: Db): StatusViews {
  const settle = createCutoffSettler(db);
  return {
    settle,
    settlePage: createPageSettler(settle),
    listPrograms: listPrograms.bind(null, db),
    listConsortiums: listConsortiums.bind(null, db),
    viewProgramPlan: viewProgramPlan.bind(null, db),
    viewProgram: viewProgram.bind(null, db),
    viewMilestone: viewMilestone.bind(null, db),
    viewConsortium: viewConsortium.bind(null, db),
    timeline: timeline.bind(null, db),
    cellEvidence: cellEvidence.bind(null, db),
  };
}

async function listPrograms(db: Db, cutoff: Cutoff, page: { after: string | undefined; limit: number }): Promise<Paged<ProgramSummary>> {
  const found = await findProgramEntries(db, cutoff, page.after === undefined ? undefined : decodeIdCursor(page.after, PROGRAMS), page.limit);
  return { items: found.items.map((p) => toProgram(p.programId, p)), nextCursor: found.last === undefined ? undefined : encodeIdCursor(PROGRAMS, found.last) };
}

async function listConsortiums(db: Db, cutoff: Cutoff, page: { after: string | undefined; limit: number }): Promise<Paged<ConsortiumSummary>> {
  const found = await findConsortiumEntries(db, cutoff, page.after === undefined ? undefined : decodeIdCursor(page.after, CONSORTIUMS), page.limit);
  return {
    items: found.items.map((c) => toConsortium(c.consortiumId, c)),
    nextCursor: found.last === undefined ? undefined : encodeIdCursor(CONSORTIUMS, found.last),
  };
}

/** What a milestone is at the cut-off: its title, scope and due date, without its cells. */
export type MilestonePlan = Omit<MilestoneView, 'cells'>;

/**
 * Milestones read recently, by the events they are read from (MilestoneEntry.eventIds): an event
 * never changes, and an event id is unique to its event, in any database, so the same ids are
 * the same milestone. Reading a milestone's plan (its upcast, checking its data against the
 * catalogue's schema, its due date) was a twentieth of the service's CPU for a program's page or a
 * matrix, every request, for the same few milestones (--cpu-prof, 2026-12-05).
 */
const readPlans = new LRUCache<string, MilestonePlan>({ max: 10_000 });

function toMilestonePlan(m: MilestoneEntry): MilestonePlan {
  const known = readPlans.get(m.eventIds);
  if (known !== undefined) return known;
  const plan = MilestonePlannedData.parse(upcast('milestone.planned', m.plan).data);
  const rescheduled = m.rescheduled === undefined ? undefined : MilestoneRescheduledData.parse(m.rescheduled.data).due;
  const read = Object.freeze({
    programId: m.programId,
    milestone: m.milestone,
    title: plan.title,
    scope: plan.scope,
    due: parseFuzzyDate(rescheduled ?? plan.due ?? ''),
  });
  readPlans.set(m.eventIds, read);
  return read;
}

/**
 * The cells of each milestone, judged (overdue, certain) at `now`: the asOf bound, else the clock.
 * Cells are grouped in one pass and each is built field by field: spreading a cell into a new
 * object took an eighth of a busy matrix's CPU (measured with --cpu-prof).
 */
function toMilestoneViews(milestones: readonly MilestoneEntry[], cells: readonly CellState[], now: Date): MilestoneView[] {
  const byMilestone = new Map<string, CellState[]>();
  for (const c of cells) {
    const key = `${c.programId}/${c.milestone}`;
    const group = byMilestone.get(key);
    if (group === undefined) byMilestone.set(key, [c]);
    else group.push(c);
  }
  return milestones.map((m) => {
    const plan = toMilestonePlan(m);
    const judged = (c: CellState): MilestoneCell => ({
      programId: c.programId,
      milestone: c.milestone,
      consortiumId: c.consortiumId,
      status: c.status,
      since: c.since,
      due: plan.due,
      overdue: isOverdue(c.status, plan.due?.end, now),
      certain: certainBy(c.since, now),
      evidenceCount: c.evidenceCount,
      evidence: c.evidence,
      evidenceEntries: undefined,
    });
    return { ...plan, cells: (byMilestone.get(`${m.programId}/${m.milestone}`) ?? []).map(judged) };
  });
}

export interface ProgramPlan {
  readonly program: ProgramSummary;
  readonly milestones: readonly MilestonePlan[];
}

/**
 * A program, consortium or milestone a view does not find. One that exists, only not at the
 * cut-off, is named with the cut-off; another with the closest ids ever defined, as a write's
 * unknown reference names them (SPEC §3). Read only on a miss, so its cost falls on the mistake.
 */
async function notFound(db: Db, kind: 'program' | 'consortium' | 'milestone', id: string, cutoff: Cutoff): Promise<SubjectNotFoundError> {
  const candidates: string[] = await findReferenceCandidates(db, kind, id).catch(() => []);
  if (candidates.includes(id)) return new SubjectNotFoundError(kind, id, atCutoff(cutoff, kind === 'milestone' ? 'planned' : 'registered'));
  return new SubjectNotFoundError(kind, id, undefined, closestReferences(kind, id, candidates));
}

/**
 * Said of what is not registered at a cut-off: it may be registered after it (a 404 at a cut-off
 * read as a wrong id, said a probe). Nothing without one.
 */
function atCutoff(cutoff: Cutoff, done: 'registered' | 'planned' = 'registered'): string | undefined {
  const when = [
    cutoff.worldBefore === undefined ? undefined : `asOf ${lastCovered(cutoff.worldBefore).toISOString()}`,
    cutoff.knownBefore === undefined ? undefined : `knownAt ${lastCovered(cutoff.knownBefore).toISOString()}`,
  ].filter((part) => part !== undefined);
  return when.length === 0 ? undefined : `not ${done} at the cut-off (${when.join(', ')}); it may have been later: ask without the cut-off to see`;
}

/** A program and its milestones at the cut-off, without their cells: what the program's own page shows. */
async function viewProgramPlan(db: Db, programId: string, cutoff: Cutoff): Promise<ProgramPlan> {
  const { programs, milestones } = await findProgramParts(db, { programIds: [programId] }, cutoff, false);
  const entry = programs.get(programId);
  if (entry === undefined) throw await notFound(db, 'program', programId, cutoff);
  return { program: toProgram(programId, entry), milestones: milestones.map(toMilestonePlan) };
}

export interface ProgramView {
  readonly program: ProgramSummary;
  readonly milestones: readonly MilestoneView[];
  /** The matrix's: the consortiums eliminated from it at the cut-off, each with its earliest elimination, in the order of their ids (none for one milestone). */
  readonly eliminations: readonly { readonly consortiumId: string; readonly eliminatedAt: FuzzyDate }[];
}

/** What a view shows besides the statuses: the evidence as entries rather than ids. */
export interface ViewOptions {
  readonly expandEvidence: boolean;
}

/** The cells' evidence as entries: one look-up by id for every cell of the view (at most 20 each). */
async function expanded(db: Db, views: readonly MilestoneView[], options: ViewOptions): Promise<MilestoneView[]> {
  if (!options.expandEvidence) return [...views];
  const events = await findEventsByIds(db, [...new Set(views.flatMap((m) => m.cells.flatMap((c) => c.evidence)))]);
  return views.map((m) => ({
    ...m,
    cells: m.cells.map((c) => ({
      ...c,
      evidenceEntries: c.evidence.flatMap((id) => {
        const event = events.get(id);
        return event === undefined ? [] : [toEvidenceEntry(event)];
      }),
    })),
  }));
}

/** A program and its milestones at the cut-off, each with its cells. */
export async function viewProgram(
  db: Db,
  programId: string,
  cutoff: Cutoff,
  now: Date,
  options: ViewOptions = { expandEvidence: false },
  milestone?: string,
): Promise<ProgramView> {
  const { programs, milestones, cells, eliminations } = await findProgramParts(db, { programIds: [programId], milestone }, cutoff, true);
  const entry = programs.get(programId);
  if (entry === undefined) throw await notFound(db, 'program', programId, cutoff);
  const views = toMilestoneViews(milestones, cells, cutoff.worldBefore ?? now);
  return {
    program: toProgram(programId, entry),
    milestones: await expanded(db, views, options),
    eliminations,
  };
}

async function viewMilestone(
  db: Db,
  programId: string,
  milestone: string,
  cutoff: Cutoff,
  now: Date,
  options: ViewOptions,
): Promise<MilestoneView> {
  const view = await viewProgram(db, programId, cutoff, now, options, milestone);
  const found = view.milestones[0];
  if (found === undefined) throw await notFound(db, 'milestone', `${programId}/${milestone}`, cutoff);
  return found;
}

export interface ConsortiumProgramView {
  readonly program: ProgramSummary;
  readonly enrolledAt: FuzzyDate;
  readonly eliminatedAt: FuzzyDate | undefined;
  readonly milestones: readonly { readonly title: string; readonly scope: string; readonly cell: MilestoneCell }[];
}

export interface ConsortiumView {
  readonly consortium: ConsortiumSummary;
  /** A page of them, in the order of their enrolment. */
  readonly programs: readonly ConsortiumProgramView[];
  /** Where the next page starts, when one follows. */
  readonly nextCursor: string | undefined;
}

/**
 * A consortium, a page of the programs it is enrolled in at the cut-off (in the order of their
 * enrolment), and its cells there (and the program-wide ones).
 */
async function viewConsortium(
  db: Db,
  consortiumId: string,
  cutoff: Cutoff,
  now: Date,
  options: ViewOptions,
  page: { after: string | undefined; limit: number },
): Promise<ConsortiumView> {
  const scope: CursorScope = { list: 'consortium-status', subject: consortiumId };
  const after = page.after === undefined ? undefined : decodeWorldCursor(page.after, scope);
  const { consortium: entry, enrolments, next, programs, milestones, cells } = await findConsortiumParts(db, consortiumId, cutoff, { after, limit: page.limit });
  if (entry === undefined) throw await notFound(db, 'consortium', consortiumId, cutoff);
  const views = await expanded(db, toMilestoneViews(milestones, cells, cutoff.worldBefore ?? now), options);
  return {
    consortium: toConsortium(consortiumId, entry),
    // World-time order of definitions is not enforced: at a cut-off a program may not exist yet.
    programs: enrolments.flatMap((enrolment) => {
      const program = programs.get(enrolment.programId);
      if (program === undefined) return [];
      return [
        {
          program: toProgram(enrolment.programId, program),
          enrolledAt: enrolment.enrolledAt,
          eliminatedAt: enrolment.eliminatedAt,
          milestones: views
            .filter((view) => view.programId === enrolment.programId)
            .flatMap((view) => view.cells.map((cell) => ({ title: view.title, scope: view.scope, cell }))),
        },
      ];
    }),
    nextCursor: next === undefined ? undefined : encodeWorldCursor(scope, next),
  };
}

export interface TimelineEntry {
  readonly event: RecordedEvent;
  readonly retractedBy: string | undefined;
}

export interface TimelineQuery {
  readonly programId?: string | undefined;
  readonly consortiumId?: string | undefined;
  /** Events whose occurredAt begins at or after `from` and before `toBefore`. */
  readonly from?: Date | undefined;
  readonly toBefore?: Date | undefined;
}

/** A page of events in world-time order, retracted ones marked with the retraction that undid them. */
async function timeline(
  db: Db,
  query: TimelineQuery,
  cutoff: Cutoff,
  page: { after: string | undefined; limit: number },
): Promise<Paged<TimelineEntry>> {
  // The timeline of one filter: its range may narrow between pages, a keyset place in world time either way.
  const scope: CursorScope = { list: 'timeline', subject: JSON.stringify([query.programId ?? null, query.consortiumId ?? null]) };
  const after = page.after === undefined ? undefined : decodeWorldCursor(page.after, scope);
  const found = await readTimeline(db, { ...query, ...cutoff }, after, page.limit);
  // A program or consortium not registered by knownAt (a typo) is a 404, as in the other views, not
  // an empty timeline that reads as "nothing happened". Only an empty page needs asking: an event
  // recorded by K names only what was registered by then.
  if (found.rows.length === 0) {
    if (query.programId !== undefined && !(await isRegistered(db, 'program', query.programId, cutoff))) throw await notFound(db, 'program', query.programId, cutoff);
    if (query.consortiumId !== undefined && !(await isRegistered(db, 'consortium', query.consortiumId, cutoff))) {
      throw await notFound(db, 'consortium', query.consortiumId, cutoff);
    }
  }
  return { items: found.rows, nextCursor: found.next === undefined ? undefined : encodeWorldCursor(scope, found.next) };
}

export interface CellRef {
  readonly programId: string;
  readonly milestone: string;
  /** Absent for a program-scope milestone's own cell. */
  readonly consortiumId: string | undefined;
}

/**
 * Why a cell of a milestone planned at the cut-off has no evidence to show, saying how to name the
 * cell when the milestone has cells: each consortium's (consortiumId needed), or the program's one
 * (consortiumId to leave out).
 */
function noSuchCell(cell: CellRef, cells: readonly CellState[]): SubjectNotFoundError {
  const name = `${cell.programId}/${cell.milestone}`;
  if (cells.length === 0) return new SubjectNotFoundError('cell', name, 'the milestone has no cell at this cut-off: no consortium it concerns is enrolled');
  const consortiums = cells.flatMap((c) => (c.consortiumId === undefined ? [] : [c.consortiumId]));
  if (consortiums.length === 0) return new SubjectNotFoundError('cell', `${name}@${cell.consortiumId}`, 'the milestone is program-scope, with one cell: leave consortiumId out');
  const near = cell.consortiumId === undefined ? [] : closestIds(cell.consortiumId, consortiums);
  const named = (near.length > 0 ? near : consortiums.slice(0, 5)).map((id) => `'${id}'`).join(', ');
  return cell.consortiumId === undefined
    ? new SubjectNotFoundError('cell', name, `the milestone is consortium-scope, with a cell per consortium: give consortiumId, such as ${named}`)
    : new SubjectNotFoundError('cell', `${name}@${cell.consortiumId}`, `consortium '${cell.consortiumId}' has no cell of this milestone${near.length > 0 ? `; did you mean ${named}?` : `; its cells are of ${named}${consortiums.length > 5 ? ', …' : ''}`}`);
}

/**
 * A page of a cell's evidence at the cut-off, newest first in world time: the cell shows its 20
 * latest entries, the rest are read from here (SPEC §4).
 */
async function cellEvidence(
  db: Db,
  cell: CellRef,
  cutoff: Cutoff,
  page: { after: string | undefined; limit: number },
): Promise<Paged<EvidenceEntry>> {
  const cells = await findCells(db, { programIds: [cell.programId], milestone: cell.milestone }, cutoff);
  if (!cells.some((c) => c.consortiumId === cell.consortiumId)) {
    if (cells.length > 0) throw noSuchCell(cell, cells);
    // No cell: a program unknown at the cut-off is named as such, as the matrix names it.
    const parts = await findProgramParts(db, { programIds: [cell.programId], milestone: cell.milestone }, cutoff, false);
    if (!parts.programs.has(cell.programId)) throw await notFound(db, 'program', cell.programId, cutoff);
    if (parts.milestones.length === 0) throw await notFound(db, 'milestone', `${cell.programId}/${cell.milestone}`, cutoff);
    throw noSuchCell(cell, cells);
  }
  const scope: CursorScope = { list: 'evidence', subject: JSON.stringify([cell.programId, cell.milestone, cell.consortiumId ?? null]) };
  const before = page.after === undefined ? undefined : decodeWorldCursor(page.after, scope);
  const { items: keys, last } = await findCellEvidence(db, cell, cutoff, before, page.limit);
  const events = await findEventsByIds(db, keys.map((k) => k.eventId));
  return {
    items: keys.flatMap((k) => {
      const event = events.get(k.eventId);
      return event === undefined ? [] : [toEvidenceEntry(event)];
    }),
    nextCursor: last === undefined ? undefined : encodeWorldCursor(scope, { start: last.start, position: last.position }),
  };
}
