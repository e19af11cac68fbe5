import type { MilestoneScope } from '../../src/domain/event-data.js';
import { parseFuzzyDate, type FuzzyDate } from '../../src/domain/fuzzy-date.js';
import type { MilestoneStatus } from '../../src/domain/milestone-status.js';
import type { RecordedEvent } from '../../src/domain/recorded-event.js';

/** SPEC §3's effects, restated here on purpose: the oracle must not share the code it checks. */
const EFFECTS: Readonly<Record<string, MilestoneStatus>> = {
  'mou.signed': 'achieved',
  'seminar.held': 'achieved',
  'pilot.started': 'in_progress',
  'pilot.completed': 'achieved',
  'model.announced': 'achieved',
  'evaluation.held': 'achieved',
  'milestone.started': 'in_progress',
  'milestone.achieved': 'achieved',
  'milestone.missed': 'missed',
  'milestone.cancelled': 'cancelled',
};
const effectOf = (type: string): MilestoneStatus | undefined => EFFECTS[type];

/*
 * The reference model of SPEC §4 for the property test: a plain fold over a program's whole log,
 * the way the spec words it, with nothing of the projection's machinery. Slow on purpose.
 *
 * A cell (program, milestone, consortium or none) exists once its milestone is planned and, for
 * consortium scope, the consortium is enrolled: existence does not depend on world-time order. Its
 * status starts `planned` and moves with the facts that name it, taken in world-time order
 * (occurredAt start, then position):
 *   - a start (in_progress) applies only to a planned or started cell: it never undoes an end;
 *   - an end (achieved, missed, cancelled) always applies: a missed milestone may be achieved later;
 *   - an elimination cancels the consortium's cells that are still planned or in progress.
 * `since` is the occurredAt of the event that last changed the status (the latest defining event
 * while it is planned); `due` follows the latest reschedule; `evidence` lists every event that bears
 * on the cell, in world-time order. Retracted events and retractions take no part.
 */

export interface MilestoneCell {
  readonly programId: string;
  readonly milestone: string;
  /** Absent for a program-scope milestone. */
  readonly consortiumId: string | undefined;
  readonly status: MilestoneStatus;
  readonly since: FuzzyDate;
  readonly due: FuzzyDate | undefined;
  readonly overdue: boolean;
  readonly evidence: readonly string[];
}

export interface FoldedMilestone {
  readonly milestone: string;
  readonly title: string;
  readonly scope: MilestoneScope;
  readonly due: FuzzyDate | undefined;
  readonly cells: readonly MilestoneCell[];
}

export interface FoldCutoff {
  /** World time, exclusive: only events that began before it count, and "now" (overdue, certainty) is that instant. */
  readonly asOf?: Date | undefined;
  /** System time, exclusive: only events recorded before it count, retractions included. */
  readonly knownAt?: Date | undefined;
  readonly now: Date;
}

/** The events that count under a cut-off: retracted events and retractions removed. */
export function eventsInForce(events: readonly RecordedEvent[], cutoff: FoldCutoff): RecordedEvent[] {
  const known = events.filter((e) => cutoff.knownAt === undefined || e.recordedAt < cutoff.knownAt);
  const retracted = new Set(known.filter((e) => e.type === 'event.retracted').map((e) => String(e.data.eventId)));
  return known
    .filter((e) => e.type !== 'event.retracted' && !retracted.has(e.id))
    .filter((e) => cutoff.asOf === undefined || e.occurredAt.start < cutoff.asOf)
    .sort(byWorldTime);
}

export const byWorldTime = (a: RecordedEvent, b: RecordedEvent): number =>
  a.occurredAt.start.getTime() - b.occurredAt.start.getTime() || a.position - b.position;

const text = (e: RecordedEvent, field: string): string | undefined => {
  const value = e.data[field];
  return typeof value === 'string' ? value : undefined;
};

const OPEN: ReadonlySet<MilestoneStatus> = new Set(['planned', 'in_progress']);

export function isOverdue(status: MilestoneStatus, due: FuzzyDate | undefined, now: Date): boolean {
  return due !== undefined && now >= due.end && status !== 'achieved' && status !== 'cancelled';
}

interface CellState {
  consortiumId: string | undefined;
  status: MilestoneStatus;
  since: FuzzyDate | undefined;
  changed: boolean;
  evidence: string[];
}

/** Folds one program's events (any order; all of them, or a cut-off of them) into its milestones. */
export function foldProgram(programId: string, events: readonly RecordedEvent[], cutoff: FoldCutoff): FoldedMilestone[] {
  const inForce = eventsInForce(events, cutoff).filter((e) => text(e, 'programId') === programId);
  const now = cutoff.asOf ?? cutoff.now;

  const planned = inForce.filter((e) => e.type === 'milestone.planned');
  const enrolments = inForce.filter((e) => e.type === 'consortium.enrolled');

  return planned.map((plan) => {
    const milestone = text(plan, 'milestone') ?? '';
    const scope: MilestoneScope = plan.data.scope === 'consortium' ? 'consortium' : 'program';
    const cells: CellState[] =
      scope === 'program'
        ? [{ consortiumId: undefined, status: 'planned', since: undefined, changed: false, evidence: [] }]
        : enrolments
            // A plan that names its consortiums concerns those alone (milestone.planned v2).
            .filter((e) => !Array.isArray(plan.data.consortiums) || plan.data.consortiums.includes(text(e, 'consortiumId')))
            .map((e): CellState => ({ consortiumId: text(e, 'consortiumId'), status: 'planned', since: undefined, changed: false, evidence: [] }))
            // Code-point order, as the projection sorts (collate "C").
            .sort((a, b) => ((a.consortiumId ?? '') < (b.consortiumId ?? '') ? -1 : 1));
    let due = parseFuzzyDate(text(plan, 'due') ?? '');

    for (const event of inForce) {
      const bearsOnMilestone = text(event, 'milestone') === milestone;
      // A reschedule moves the milestone's due date even while it has no cell yet.
      if (event.type === 'milestone.rescheduled' && bearsOnMilestone) due = parseFuzzyDate(text(event, 'due') ?? '') ?? due;
      for (const cell of cells) {
        if (!bearsOn(event, cell, scope, bearsOnMilestone)) continue;
        // Definitions make the cell; they are not evidence of its status.
        if (event.type !== 'milestone.planned' && event.type !== 'consortium.enrolled') cell.evidence.push(event.id);
        if ((event === plan || event.type === 'consortium.enrolled') && !cell.changed) {
          // While nothing has moved it, a cell is planned since its latest defining event.
          cell.since = event.occurredAt;
        }
        const next = nextStatus(cell.status, event);
        if (next !== cell.status) {
          cell.status = next;
          cell.since = event.occurredAt;
          cell.changed = true;
        }
      }
    }

    return {
      milestone,
      title: text(plan, 'title') ?? milestone,
      scope,
      due,
      cells: cells.map((cell) => ({
        programId,
        milestone,
        consortiumId: cell.consortiumId,
        status: cell.status,
        since: cell.since ?? plan.occurredAt,
        due,
        overdue: isOverdue(cell.status, due, now),
        evidence: cell.evidence,
      })),
    };
  });
}

function bearsOn(event: RecordedEvent, cell: CellState, scope: MilestoneScope, namesMilestone: boolean): boolean {
  switch (event.type) {
    case 'milestone.planned':
    case 'milestone.rescheduled':
      return namesMilestone;
    case 'consortium.enrolled':
    case 'consortium.eliminated':
      return cell.consortiumId !== undefined && text(event, 'consortiumId') === cell.consortiumId;
    default:
      if (!namesMilestone || effectOf(event.type) === undefined) return false;
      return scope === 'program' || text(event, 'consortiumId') === cell.consortiumId;
  }
}

function nextStatus(current: MilestoneStatus, event: RecordedEvent): MilestoneStatus {
  if (event.type === 'consortium.eliminated') return OPEN.has(current) ? 'cancelled' : current;
  const effect = effectOf(event.type);
  switch (effect) {
    case undefined:
      return current;
    case 'in_progress':
    case 'planned':
      return OPEN.has(current) ? effect : current;
    default:
      return effect;
  }
}
