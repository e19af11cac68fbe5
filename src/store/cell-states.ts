import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { FuzzyDate } from '../domain/fuzzy-date.js';
import { MilestoneStatus } from '../domain/milestone-status.js';
import type { CellStepTable, Db } from './database.js';
import type { WorldKey } from './page-cursor.js';
import { pageOf, pageRead } from './page-read.js';
import { PREPARED } from './prepared-statement.js';
import { believedAt, cutStandIns, knownCut, unretracted, worldCut, type ReadCut } from './read-cut.js';
import { toFuzzy, type Instant } from './read-rows.js';
import { shapedStatement, type StandIns } from './shaped-statement.js';

/*
 * Cells at a cut-off (read-cut.ts): each cell's state, its step believed just before K with the
 * greatest world key before W, and its evidence there. Index look-ups per cell, whatever the
 * cell's history: nothing here reads a program's log. (Migrations of 2026-12-01 and -02 cite
 * stateAt and the cell reads as src/store/read-model.ts, where they were until the split.)
 */

export interface CellState {
  readonly programId: string;
  readonly milestone: string;
  readonly consortiumId: string | undefined;
  readonly status: MilestoneStatus;
  readonly since: FuzzyDate;
  readonly evidenceCount: number;
  /** The latest evidence, newest first (at most CELL_EVIDENCE_LIMIT, cell-evidence-limit.ts). */
  readonly evidence: readonly string[];
}

/** Below every position: (W, MIN_POSITION) is the least key at W, so "key < it" is "began before W". */
const MIN_POSITION = '-9223372036854775808';

const lowerKey = (a: WorldKey | undefined, b: WorldKey | undefined): WorldKey | undefined => {
  if (a === undefined || b === undefined) return a ?? b;
  const order = a.start.getTime() - b.start.getTime() || Number(BigInt(a.position) - BigInt(b.position));
  return order <= 0 ? a : b;
};

/** The key a read at the cut stays below, from W and a page's cursor; undefined: no bound. */
const fixedBound = (cut: ReadCut, before: WorldKey | undefined): WorldKey | undefined =>
  lowerKey(cut.worldBefore === undefined ? undefined : { start: cut.worldBefore, position: MIN_POSITION }, before);

/*
 * At a knownAt cut-off, the steps believed then are found from the newest of them. Along a cell's
 * timeline as believed at any moment, the later a step in world time, the later it was written: an
 * append either adds the last step or rewrites every step from its key on (fold_cell.sql). So the
 * step believed at K with the greatest world key is the one written last by K, one probe of
 * cell_step_written, and a scan down the world keys from there skips only what later news changed
 * (late events, retractions), never the steps recorded after K.
 *
 * The scans below it take one upper bound, the lower of that step's key and the fixed bound (W, a
 * page's cursor): given two bounds on the same columns, PostgreSQL may start a backward scan at the
 * higher one and walk down to the other, through every step between the newest believed at K and
 * an earlier W, a cost that grows with the history.
 */
/** Rows `s` of the cell `c` the read is about. */
const OF_CELL = sql`s.program_id = c.program_id and s.milestone = c.milestone and s.consortium_id = c.consortium_id`;

/** The step of cell `c` written last by K: the newest one believed at K (see above). */
const newestStep = (k: Date, columns: RawBuilder<unknown>) => sql`
  select ${columns} from cell_step s
  where ${OF_CELL} and ${believedAt(k)}
  order by s.known_from desc, s.v_start desc, s.v_position desc limit 1`;

/** A world key in SQL: its instant and its position. */
interface KeySql {
  readonly start: RawBuilder<unknown>;
  readonly position: RawBuilder<unknown>;
}

/** The lower of two world keys, as the columns bound_start and bound_position: one bound for a scan (see above). */
const lowerOfKeys = (a: KeySql, b: KeySql) => {
  const aIsLower = sql`(${a.start}, ${a.position}) < (${b.start}, ${b.position})`;
  return sql`case when ${aIsLower} then ${a.start} else ${b.start} end as bound_start,
             case when ${aIsLower} then ${a.position} else ${b.position} end as bound_position`;
};

/** The key of a row whose position is already one past its step's (an exclusive bound). */
const keyOf = (row: string): KeySql => ({ start: sql.ref(`${row}.v_start`), position: sql.ref(`${row}.v_position`) });

/** The columns of a step that hold the cell's state there, as cellsAt reads them. */
const STATE_COLUMNS = ['status', 'since_value', 'since_precision', 'since_start', 'since_end', 'evidence_count', 'evidence'] as const satisfies readonly (keyof CellStepTable)[];
const stateColumnsOf = (row: string) => sql.join(STATE_COLUMNS.map((column) => sql.ref(`${row}.${column}`)));

/**
 * `newest`: the bound (bound_start, bound_position), and the newest step believed at K itself
 * (step_start, step_position, step_known_from), which stateAt takes for the state when it began
 * before W; `withState`, that step's state columns too (STATE_COLUMNS), so that stateAt need not
 * find the step again then.
 */
const newestBelieved = (cut: ReadCut, { before, withState = false }: { readonly before?: WorldKey | undefined; readonly withState?: boolean } = {}) => {
  if (cut.knownBefore === undefined) return sql``;
  const fixed = fixedBound(cut, before);
  const stateOf = (row: string) => (withState ? sql`, ${stateColumnsOf(row)}` : sql``);
  const newest = newestStep(
    cut.knownBefore,
    sql`s.v_start, s.v_position + 1 as v_position, s.v_start as step_start, s.v_position as step_position, s.known_from as step_known_from ${stateOf('s')}`,
  );
  const step = sql`n.step_start, n.step_position, n.step_known_from ${stateOf('n')}`;
  if (fixed === undefined) return sql`cross join lateral (select n.v_start as bound_start, n.v_position as bound_position, ${step} from (${newest}) n) newest`;
  const fixedKey = { start: sql`${fixed.start}::timestamptz`, position: sql`${fixed.position}::bigint` };
  return sql`cross join lateral (select ${lowerOfKeys(keyOf('n'), fixedKey)}, ${step} from (${newest}) n) newest`;
};

/** The world keys a read at the cut looks at: one upper bound (see newestBelieved). */
const keysBelow = (cut: ReadCut, before?: WorldKey) => {
  if (cut.knownBefore !== undefined) return sql`(s.v_start, s.v_position) < (newest.bound_start, newest.bound_position)`;
  const fixed = fixedBound(cut, before);
  if (fixed === undefined) return sql`true`;
  return before === undefined
    ? sql`s.v_start < ${fixed.start}::timestamptz`
    : sql`(s.v_start, s.v_position) < (${fixed.start}::timestamptz, ${fixed.position}::bigint)`;
};

/*
 * The cell's evidence at the cut, newest first in world time: its events that occurred before W,
 * were recorded before K and were not retracted by K, one row each in cell_evidence, whatever later
 * news did to the cell's timeline. Below the newest step believed at K, as the state is, so that the
 * events recorded after K are not walked either.
 */
const evidenceAt = (cut: ReadCut, before?: WorldKey) => sql`
  select s.event_id, s.v_start, s.v_position from cell_evidence s
  where ${OF_CELL} and ${keysBelow(cut, before)} and s.recorded_at < ${knownCut(cut)} and ${unretracted('s.retracted_at', cut)}
  order by s.v_start desc, s.v_position desc`;

export type CellStateRow = Pick<
  Selectable<CellStepTable>,
  'program_id' | 'milestone' | 'consortium_id' | 'status' | 'since_value' | 'since_precision' | 'evidence_count'
> & { since_start: Instant; since_end: Instant; evidence: string };

/**
 * A cell row's columns with their SQL types, in one order: a statement that puts cells beside a row
 * that is none (a UNION, whose columns match by position) takes both from here.
 */
const CELL_COLUMNS = [
  ['program_id', 'text'],
  ['milestone', 'text'],
  ['consortium_id', 'text'],
  ['status', 'text'],
  ['since_value', 'text'],
  ['since_precision', 'text'],
  ['since_start', 'timestamptz'],
  ['since_end', 'timestamptz'],
  ['evidence_count', 'integer'],
  ['evidence', 'text'],
] as const satisfies readonly (readonly [keyof CellStateRow, string])[];

/**
 * A row of a statement whose other rows are cells (read-model.ts), each cell column null: typed from
 * the list, so that a column of CellStateRow missing from it fails to compile in toCellRow,
 * which names each.
 */
export type NoCellRow = { [K in (typeof CELL_COLUMNS)[number][0]]: CellStateRow[K] | null };

/** The cell columns, null, with their types: a row that is no cell. */
export const NO_CELL = sql.join(CELL_COLUMNS.map(([name, type]) => sql`null::${sql.raw(type)} as ${sql.id(name)}`));

/** The cell columns of a cellsQuery read as `c`, by name, in the order of NO_CELL. */
export const CELL_COLUMNS_OF_C = sql.join(CELL_COLUMNS.map(([name]) => sql.ref(`c.${name}`)));

/** The cell a row of such a statement holds, if it holds one. */
export function toCellRow(row: NoCellRow): CellStateRow | undefined {
  const { program_id, milestone, consortium_id, status, since_value, since_precision, since_start, since_end, evidence_count, evidence } = row;
  if (program_id === null || milestone === null || consortium_id === null || status === null || since_value === null) return undefined;
  if (since_precision === null || since_start === null || since_end === null || evidence_count === null || evidence === null) return undefined;
  return { program_id, milestone, consortium_id, status, since_value, since_precision, since_start, since_end, evidence_count, evidence };
}

/**
 * Programs by id: given, or the SQL of an array of them, read in the same statement (the programs
 * a consortium is enrolled in at the cut, findConsortiumParts).
 */
export type ProgramIds = readonly string[] | RawBuilder<readonly string[]>;
const isGiven = (ids: ProgramIds): ids is readonly string[] => Array.isArray(ids);
// The array itself, not a copy: a shaped statement finds its values among its parameters by identity (shaped-statement.ts).
export const programIdArray = (ids: ProgramIds) => (isGiven(ids) ? sql`${ids}::text[]` : ids);
export const noPrograms = (ids: ProgramIds) => isGiven(ids) && ids.length === 0;

export interface CellSelection {
  readonly programIds: readonly string[];
  readonly milestone?: string | undefined;
  /** A consortium's own cells and the program-scope ones; without it, every cell. */
  readonly consortiumId?: string | undefined;
}

/** A selection whose programs may be read in the same statement (findConsortiumParts). */
export interface PartsSelection extends Omit<CellSelection, 'programIds'> {
  readonly programIds: ProgramIds;
}

/*
 * Evidence ids travel as one comma-separated text, not a uuid[]: the driver parses array text
 * character by character (postgres-array), which cost a tenth of a busy view's CPU in Node.
 */
const idsOf = (text: string): string[] => (text === '' ? [] : text.split(','));

/**
 * The selection's cells, as rows `c` of milestone_cell (cellFilter narrows them). A consortium's,
 * its own and the program-scope ones of its programs, are probed by (consortium, program) in
 * milestone_cell_consortium, two a program. As a filter on both columns, or as a join PostgreSQL
 * was free to flatten, it read every cell of the consortium and every program-scope cell of the
 * store, and dropped those of its other programs, so that a page of a consortium's status cost what
 * all its enrolments held (test/http/consortium-status-pages.test.ts). OFFSET 0 keeps the lateral
 * subquery a look-up by both keys for each pair.
 */
const cellRows = (selection: PartsSelection) =>
  selection.consortiumId === undefined
    ? sql`milestone_cell c`
    : sql`unnest(${programIdArray(selection.programIds)}) as sp(program_id)
          cross join unnest(array[${selection.consortiumId}::text, '']) as sc(consortium_id)
          cross join lateral (
            select * from milestone_cell m where m.consortium_id = sc.consortium_id and m.program_id = sp.program_id offset 0
          ) c`;

const cellFilter = (selection: PartsSelection) =>
  selection.consortiumId === undefined
    ? sql`c.program_id = any (${programIdArray(selection.programIds)})
          ${selection.milestone === undefined ? sql`` : sql`and c.milestone = ${selection.milestone}`}`
    : sql`${selection.milestone === undefined ? sql`true` : sql`c.milestone = ${selection.milestone}`}`;

/**
 * The order the views show cells in: program, milestone, consortium (a program's own cell first),
 * each by code point, as `collate "C"` orders them (ids are ASCII slugs, domain/identifiers.ts, so
 * UTF-16 order is code-point order). Cells are read unordered and sorted here, in the service: the
 * database is the part that does not scale out, and a view's statement leaves their order open.
 */
export const byCellKey = (a: CellState, b: CellState): number =>
  compareCodePoints(a.programId, b.programId) ||
  compareCodePoints(a.milestone, b.milestone) ||
  compareCodePoints(a.consortiumId ?? '', b.consortiumId ?? '');

const compareCodePoints = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The cells that exist at the cut, each with its state and latest evidence there, in key order (byCellKey). */
export async function findCells(db: Db, selection: CellSelection, cut: ReadCut): Promise<CellState[]> {
  if (noPrograms(selection.programIds)) return [];
  const { rows } = await cellsStatement(db, { selection, cut });
  return rows.map(toCellState).sort(byCellKey);
}

/** A selection's values, each through its stand-in, for a statement compiled once a shape (shaped-statement.ts). */
export const selectionStandIns = (selection: CellSelection, s: StandIns): CellSelection =>
  ({
    programIds: s.texts(selection.programIds),
    milestone: s.optionalText(selection.milestone),
    consortiumId: s.optionalText(selection.consortiumId),
  }) satisfies Record<keyof CellSelection, unknown>;

const cellsStatement = shapedStatement(
  ({ selection, cut }: { readonly selection: CellSelection; readonly cut: ReadCut }, s) => ({ selection: selectionStandIns(selection, s), cut: cutStandIns(cut, s) }),
  ({ selection, cut }) => sql<CellStateRow>`${cellsQuery(selection, cut)} ${PREPARED}`,
);

export const toCellState = (r: CellStateRow): CellState => ({
  programId: r.program_id,
  milestone: r.milestone,
  consortiumId: r.consortium_id === '' ? undefined : r.consortium_id,
  status: MilestoneStatus.parse(r.status),
  since: toFuzzy(r.since_value, r.since_precision, r.since_start, r.since_end),
  evidenceCount: r.evidence_count,
  evidence: idsOf(r.evidence),
});

/** The cells of the selection at the cut, in no order (byCellKey puts them in the views' order). */
export const cellsQuery = (selection: PartsSelection, cut: ReadCut): RawBuilder<CellStateRow> =>
  cut.worldBefore === undefined && cut.knownBefore === undefined ? currentCells(selection) : cellsAt(selection, cut);

/**
 * The current cut, the one analysts ask for most: every cell exists, and milestone_cell holds its
 * state and latest evidence as fold_cell.sql left them, so one index range answers, no timeline.
 */
const currentCells = (selection: PartsSelection) => sql<CellStateRow>`
    select c.program_id, c.milestone, c.consortium_id, c.status, c.since_value, c.since_precision, c.since_start,
           c.since_end, c.evidence_count, array_to_string(c.evidence, ',') as evidence
    from ${cellRows(selection)}
    where ${cellFilter(selection)}`;

/*
 * The state at the cut: the step believed at K with the greatest world key before W. At K alone
 * (no W) that is the newest step believed at K itself, found in one probe.
 */
const stateAt = (cut: ReadCut) => {
  const k = cut.knownBefore;
  const w = cut.worldBefore;
  /** The step of cell `c` with the greatest key below the cut's bound among those `believedThen`. */
  const latest = (columns: RawBuilder<unknown>, believedThen: RawBuilder<unknown>) => sql`(
      select ${columns} from cell_step s
      where ${OF_CELL} and ${keysBelow(cut)} and ${believedThen}
      order by s.v_start desc, s.v_position desc limit 1)`;
  if (k === undefined) return sql`cross join lateral ${latest(sql`s.*`, sql`s.known_to = 'infinity'`)} s`;
  if (w === undefined) return sql`cross join lateral (${newestStep(k, sql`s.*`)}) s`;
  /*
   * Both cut-offs. The searches below look under the bound, at most the newest step believed at
   * K's key + 1 (newestBelieved): when that step began before W, the bound is its key + 1 and all
   * they could find is that step, so it is the state, and they do not run (each is gated on
   * `below`, a condition of the outer row alone, which PostgreSQL tests before the scan: a One-Time
   * Filter); newest carries its state columns, read in the probe that found it.
   *
   * Otherwise the state is the version believed at K of the latest step below the bound that
   * existed at K. A step (one event's place in the timeline) exists from the writing of its first
   * version until a retraction ends it, its versions following one another without a gap
   * (fold_cell.sql), so cell_step_span holds one row a step with that interval, and the search
   * below the bound passes over only the steps that did not exist at K: recorded after K (late news
   * about the weeks below W, bounded by how much of it came after K, not by the cell's history), or
   * retracted by then. Then the step's version written last before K, one probe of
   * cell_step_versions (a step's versions under its event and cell) from K down; a rebuild whose
   * chunk splits an append writes a version superseded the moment it was written (known_to =
   * known_from), never believed, which the filter leaves out. The steps themselves are not searched: a step near W that late news after K wrote
   * again many times has as many versions, one span. (Until 2026-12-04, four probes searched the
   * current and the superseded steps, the migration 2026-12-04T17-00-00 says which.) Like the
   * newest step's probe, this rests on recorded_at never going back (lock_projection.sql): a clock
   * stepped back could write a version from before its step's born, and a cut-off between the two
   * would find the step missing; no test covers that case.
   */
  const below = sql`newest.step_start < ${w}::timestamptz`;
  const searching = sql`not (${below})`;
  /*
   * The step's version written last before K, believed at K: known_from < K written as a row
   * comparison led by the columns of cell_step_versions, which starts the scan there. Written on
   * known_from alone, it also bounded cell_step_written (the cell's versions by when each was
   * written), and on tables a rebuild had just analyzed PostgreSQL walked that one down from K,
   * passing over every version of the cell's other steps written since (624 a cell on the 1M
   * history's busy matrix: 50 ms a statement, 3.4 by this one; run 33, "after the rebuild").
   */
  const versionBelieved = sql`
    (s.event_id, s.program_id, s.milestone, s.consortium_id, s.known_from) < (span.event_id, c.program_id, c.milestone, c.consortium_id, ${k}::timestamptz)
    and ${k}::timestamptz <= s.known_to`;
  return sql`
    ${newestBelieved(cut, { withState: true })}
    left join lateral (
      select sp.event_id from cell_step_span sp
      where sp.program_id = c.program_id and sp.milestone = c.milestone and sp.consortium_id = c.consortium_id
        and (sp.v_start, sp.v_position) < (newest.bound_start, newest.bound_position)
        and sp.born < ${k}::timestamptz and ${k}::timestamptz <= sp.died and ${searching}
      order by sp.v_start desc, sp.v_position desc limit 1
    ) span on true
    cross join lateral (
      select ${stateColumnsOf('newest')} where ${below}
      union all
      (select ${stateColumnsOf('s')} from cell_step s
       where ${OF_CELL} and s.event_id = span.event_id and ${versionBelieved} and ${searching}
       order by s.known_from desc limit 1)
    ) s`;
};

/**
 * Any other cut: each cell's state there (stateAt), and the evidence the step holds. That step is
 * the cell's timeline up to W as believed at K, and it was written again whenever anything before
 * it changed (fold_cell.sql), so its evidence is the evidence at the cut: no read of cell_evidence.
 */
const cellsAt = (selection: PartsSelection, cut: ReadCut) => sql<CellStateRow>`
    select c.program_id, c.milestone, c.consortium_id, s.status, s.since_value, s.since_precision, s.since_start,
           s.since_end, s.evidence_count, array_to_string(s.evidence, ',') as evidence
    from ${cellRows(selection)}
    ${stateAt(cut)}
    where ${cellFilter(selection)}
      and c.exists_start < ${worldCut(cut)} and c.exists_recorded < ${knownCut(cut)}`;

/** A page of a cell's evidence at the cut, newest first in world time, after the world key `before`; `last` when more follow. */
export async function findCellEvidence(
  db: Db,
  cell: { readonly programId: string; readonly milestone: string; readonly consortiumId: string | undefined },
  cut: ReadCut,
  before: WorldKey | undefined,
  limit: number,
): Promise<{ readonly items: readonly (WorldKey & { readonly eventId: string })[]; readonly last: WorldKey | undefined }> {
  const consortium = cell.consortiumId ?? '';
  const { rows } = await sql<{ event_id: string; v_start: Date; v_position: string }>`
    select s.event_id, s.v_start, s.v_position
    from (select ${cell.programId}::text as program_id, ${cell.milestone}::text as milestone, ${consortium}::text as consortium_id) c
    ${newestBelieved(cut, { before })}
    cross join lateral (
      ${evidenceAt(cut, before)} limit ${pageRead(limit)}
    ) s
    order by s.v_start desc, s.v_position desc ${PREPARED}`.execute(db);
  return pageOf(
    rows.map((r) => ({ eventId: r.event_id, start: r.v_start, position: r.v_position })),
    limit,
  );
}
