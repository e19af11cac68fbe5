import { EVENT_TYPE_NAMES, infoOf, type CellRole, type EventType } from './event-catalogue.js';
import { MILESTONE_STATUSES, type MilestoneStatus } from './milestone-status.js';

/*
 * The status rule of SPEC §4, in one place. A cell starts `planned`; each event that bears on it,
 * in world-time order, moves it by the effect the catalogue gives its type. An effect marked
 * onlyWhileOpen (a start, an elimination) applies only to a cell still planned or in progress, so it
 * never undoes an end; any other effect always applies (a missed milestone may be achieved later).
 *
 * The projection in the database does not restate this rule: it looks each step up in the table
 * that statusTransitions() fills (db/catalogue-rules.ts), written anew at every migration run.
 */

const OPEN: ReadonlySet<MilestoneStatus> = new Set(['planned', 'in_progress']);

export function nextStatus(current: MilestoneStatus, type: EventType): MilestoneStatus {
  const { effect, onlyWhileOpen } = infoOf(type);
  if (effect === undefined) return current;
  if (onlyWhileOpen === true && !OPEN.has(current)) return current;
  return effect;
}

export interface StatusTransition {
  readonly type: EventType;
  readonly from: MilestoneStatus;
  readonly to: MilestoneStatus;
}

/** Every (type, status) pair whose event changes the status: the table the projection folds with. */
export function statusTransitions(): StatusTransition[] {
  return EVENT_TYPE_NAMES.flatMap((type) =>
    MILESTONE_STATUSES.map((from) => ({ type, from, to: nextStatus(from, type) })).filter((t) => t.to !== t.from),
  );
}

/** The role of each type, as the projection reads it from its rules table. */
export function cellRoles(): { readonly type: EventType; readonly role: CellRole }[] {
  return EVENT_TYPE_NAMES.map((type) => ({ type, role: infoOf(type).role }));
}

/** Overdue (SPEC §2.1): the end of the due interval has come and the milestone is neither achieved nor cancelled. */
export function isOverdue(status: MilestoneStatus, dueEnd: Date | undefined, now: Date): boolean {
  return dueEnd !== undefined && now >= dueEnd && status !== 'achieved' && status !== 'cancelled';
}
