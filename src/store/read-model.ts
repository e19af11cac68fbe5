import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { FuzzyDate } from '../domain/fuzzy-date.js';
import { byCellKey, CELL_COLUMNS_OF_C, cellsQuery, NO_CELL, noPrograms, programIdArray, selectionStandIns, toCellRow, toCellState, type CellSelection, type CellState, type NoCellRow, type PartsSelection, type ProgramIds } from './cell-states.js';
import type { Db } from './database.js';
import { pageOf, pageRead } from './page-read.js';
import type { WorldKey } from './page-cursor.js';
import { PREPARED } from './prepared-statement.js';
import { cutStandIns, defined, knownCut, unretracted, worldCut, type ReadCut } from './read-cut.js';
import { DEFINITION_COLUMNS, toDefinition, toFuzzy, type AsJson, type Definition, type DefinitionRow, type Instant } from './read-rows.js';
import { optionalWorldKey, shapedStatement, type StandIns } from './shaped-statement.js';

/*
 * The registries at a cut-off (read-cut.ts): programs, consortiums, milestones with their latest
 * reschedule, enrolments with their first elimination; and what each program or consortium view
 * shows, read in one statement with its cells (cell-states.ts). Index look-ups per row returned:
 * nothing here reads a program's or a consortium's log. Each statement is built and compiled once a
 * shape (shaped-statement.ts).
 */

export interface Page<T> {
  readonly items: readonly T[];
  /** The key of the last item, when more follow. */
  readonly last: string | undefined;
}

interface EntriesInput {
  readonly cut: ReadCut;
  readonly after: string | undefined;
  readonly limit: number;
}

const entriesStandIns = ({ cut, after, limit }: EntriesInput, s: StandIns): EntriesInput => ({ cut: cutStandIns(cut, s), after: s.optionalText(after), limit: s.count(limit) });

const programEntriesPageQuery = (db: Db, { cut, after, limit }: EntriesInput) => {
  const query = db
    .selectFrom('program_entry')
    .select([...DEFINITION_COLUMNS, 'program_id'])
    .where(defined('program_entry', cut))
    .orderBy(sql`program_id collate "C"`)
    .limit(limit)
    .modifyEnd(PREPARED);
  return after === undefined ? query : query.where(sql<SqlBool>`program_id collate "C" > ${after}`);
};

const programEntriesPage = shapedStatement(entriesStandIns, (input: EntriesInput, db) => programEntriesPageQuery(db, input));

export async function findProgramEntries(db: Db, cut: ReadCut, after: string | undefined, limit: number): Promise<Page<Definition & { programId: string }>> {
  const { rows } = await programEntriesPage(db, { cut, after, limit: pageRead(limit) });
  const { items, last } = pageOf(rows, limit);
  return { items: items.map((r) => ({ ...toDefinition(r), programId: r.program_id })), last: last?.program_id };
}

const consortiumEntriesPageQuery = (db: Db, { cut, after, limit }: EntriesInput) => {
  const query = db
    .selectFrom('consortium_entry')
    .select([...DEFINITION_COLUMNS, 'consortium_id'])
    .where(defined('consortium_entry', cut))
    .orderBy(sql`consortium_id collate "C"`)
    .limit(limit)
    .modifyEnd(PREPARED);
  return after === undefined ? query : query.where(sql<SqlBool>`consortium_id collate "C" > ${after}`);
};

const consortiumEntriesPage = shapedStatement(entriesStandIns, (input: EntriesInput, db) => consortiumEntriesPageQuery(db, input));

export async function findConsortiumEntries(db: Db, cut: ReadCut, after: string | undefined, limit: number): Promise<Page<Definition & { consortiumId: string }>> {
  const { rows } = await consortiumEntriesPage(db, { cut, after, limit: pageRead(limit) });
  const { items, last } = pageOf(rows, limit);
  return { items: items.map((r) => ({ ...toDefinition(r), consortiumId: r.consortium_id })), last: last?.consortium_id };
}

/**
 * Whether a program or a consortium had been registered by the cut's knownAt, whatever its asOf:
 * a fact may be dated before the registration it needs.
 */
export async function isRegistered(db: Db, kind: 'program' | 'consortium', id: string, cut: ReadCut): Promise<boolean> {
  const known = sql<SqlBool>`recorded_at < ${knownCut(cut)}`;
  const found =
    kind === 'program'
      ? await db.selectFrom('program_entry').select('program_id').where('program_id', '=', id).where(known).executeTakeFirst()
      : await db.selectFrom('consortium_entry').select('consortium_id').where('consortium_id', '=', id).where(known).executeTakeFirst();
  return found !== undefined;
}

const consortiumEntryQuery = (db: Db, consortiumId: string, cut: ReadCut) =>
  db.selectFrom('consortium_entry').select(DEFINITION_COLUMNS).where('consortium_id', '=', consortiumId).where(defined('consortium_entry', cut));

export interface MilestoneEntry {
  readonly programId: string;
  readonly milestone: string;
  /** The events the entry is read from, its plan's and its latest reschedule's: what it is, for good. */
  readonly eventIds: string;
  readonly plan: Definition;
  /** The data of the latest reschedule in force at the cut, if any. */
  readonly rescheduled: { readonly data: Record<string, unknown>; readonly schemaVersion: number } | undefined;
}

interface MilestoneRow extends DefinitionRow {
  program_id: string;
  milestone: string;
  event_id: string;
  r_event_id: string | null;
  r_data: Record<string, unknown> | null;
  r_schema_version: number | null;
}

const toMilestoneEntry = (r: MilestoneRow): MilestoneEntry => ({
  programId: r.program_id,
  milestone: r.milestone,
  eventIds: r.r_event_id === null ? r.event_id : `${r.event_id} ${r.r_event_id}`,
  plan: toDefinition(r),
  rescheduled: r.r_data === null || r.r_schema_version === null ? undefined : { data: r.r_data, schemaVersion: r.r_schema_version },
});

/** The milestones of these programs in force at the cut, each with its latest reschedule in force. */
function milestoneEntriesQuery(db: Db, programIds: ProgramIds, cut: ReadCut, milestone: string | undefined) {
  const query = db
    .selectFrom('milestone_entry as m')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('milestone_reschedule as r')
          .select(['r.event_id as r_event_id', 'r.data as r_data', 'r.schema_version as r_schema_version'])
          .whereRef('r.program_id', '=', 'm.program_id')
          .whereRef('r.milestone', '=', 'm.milestone')
          .where(sql<SqlBool>`r.occurred_start < ${worldCut(cut)} and r.recorded_at < ${knownCut(cut)}`)
          .where(unretracted('r.retracted_at', cut))
          .orderBy('r.occurred_start', 'desc')
          .orderBy('r.position', 'desc')
          .limit(1)
          .as('r'),
      (join) => join.onTrue(),
    )
    .select([
      'm.program_id',
      'm.milestone',
      'm.data',
      'm.schema_version',
      'm.occurred_value',
      'm.occurred_precision',
      'm.occurred_start',
      'm.occurred_end',
      'm.event_id',
      'r.r_event_id',
      'r.r_data',
      'r.r_schema_version',
    ])
    .where(sql<SqlBool>`m.program_id = any (${programIdArray(programIds)})`)
    .where(defined('m', cut))
    .orderBy(sql`m.program_id collate "C"`)
    .orderBy('m.occurred_start')
    .orderBy('m.position');
  return milestone === undefined ? query : query.where('m.milestone', '=', milestone);
}

export interface EnrolmentEntry {
  readonly programId: string;
  /** Its place in the consortium's enrolments, in world time: a page's cursor. */
  readonly key: WorldKey;
  readonly enrolledAt: FuzzyDate;
  readonly eliminatedAt: FuzzyDate | undefined;
}

interface EnrolmentRow {
  program_id: string;
  position: string;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Instant;
  occurred_end: Instant;
  x_value: string | null;
  x_precision: string | null;
  x_start: Instant | null;
  x_end: Instant | null;
}

/** A page of a consortium's enrolments: `limit` rows after the world key `after`. */
export interface EnrolmentPage {
  readonly after: WorldKey | undefined;
  readonly limit: number;
}

/**
 * A page of the programs a consortium is enrolled in at the cut, in world-time order of the
 * enrolments (one range of enrolment_entry_consortium_world), each with its earliest elimination in
 * force there, in world time: a second elimination recorded with an earlier date corrects the
 * first, as the cancelled cells' since does. A program registered later in world time than its
 * enrolment (nothing orders definitions) is not listed at a cut-off between the two: left out
 * here, with the enrolment, so that a page is full.
 */
const enrolmentsQuery = (consortiumId: string, cut: ReadCut, { after, limit }: EnrolmentPage) => sql<EnrolmentRow>`
    select en.program_id, en.position::text as position, en.occurred_value, en.occurred_precision, en.occurred_start, en.occurred_end,
           x.occurred_value as x_value, x.occurred_precision as x_precision, x.occurred_start as x_start, x.occurred_end as x_end
    from enrolment_entry en
    left join lateral (
      select x.* from enrolment_elimination x
      where x.program_id = en.program_id and x.consortium_id = en.consortium_id
        and x.occurred_start < ${worldCut(cut)} and x.recorded_at < ${knownCut(cut)} and ${unretracted('x.retracted_at', cut)}
      order by x.occurred_start, x.position limit 1
    ) x on true
    where en.consortium_id = ${consortiumId} and ${defined('en', cut)}
      and exists (select 1 from program_entry p where p.program_id = en.program_id and ${defined('p', cut)})
      ${after === undefined ? sql`` : sql`and (en.occurred_start, en.position) > (${after.start}::timestamptz, ${after.position}::bigint)`}
    order by en.occurred_start, en.position
    limit ${limit}`;

const toEnrolment = (r: AsJson<EnrolmentRow>): EnrolmentEntry => ({
  programId: r.program_id,
  key: { start: new Date(r.occurred_start), position: r.position },
  enrolledAt: toFuzzy(r.occurred_value, r.occurred_precision, r.occurred_start, r.occurred_end),
  eliminatedAt:
    r.x_value === null || r.x_precision === null || r.x_start === null || r.x_end === null
      ? undefined
      : toFuzzy(r.x_value, r.x_precision, r.x_start, r.x_end),
});

/** Every program with a definition in force at the cut, among these. */
const programEntriesQuery = (db: Db, programIds: ProgramIds, cut: ReadCut) =>
  db
    .selectFrom('program_entry')
    .select([...DEFINITION_COLUMNS, 'program_id'])
    .where(sql<SqlBool>`program_id = any (${programIdArray(programIds)})`)
    .where(defined('program_entry', cut));

/** What a program view shows, from the read model at a cut. */
export interface ProgramParts {
  readonly programs: ReadonlyMap<string, Definition>;
  readonly milestones: readonly MilestoneEntry[];
  /** Empty unless asked for. */
  readonly cells: readonly CellState[];
  /**
   * With the cells of every milestone (a matrix): each consortium eliminated from the program at the
   * cut, with its earliest elimination in world time (as a consortium's status gives it). Empty otherwise.
   */
  readonly eliminations: readonly Elimination[];
}

export interface Elimination {
  readonly programId: string;
  readonly consortiumId: string;
  readonly eliminatedAt: FuzzyDate;
}

interface EliminationRow {
  program_id: string;
  consortium_id: string;
  occurred_value: string;
  occurred_precision: string;
  occurred_start: Instant;
  occurred_end: Instant;
}

/**
 * The programs' eliminations in force at the cut, the earliest in world time for each consortium
 * enrolled at the cut (enrolmentsQuery's rule: an elimination dated before its enrolment does not
 * show before the enrolment does), in code-point order of the consortiums' ids, as the cells come:
 * one range of enrolment_elimination_cell per program, whose rows are few (at most one a
 * consortium, unless corrected).
 */
const eliminationsQuery = (programIds: ProgramIds, cut: ReadCut) => sql<EliminationRow>`
    select distinct on (x.program_id, x.consortium_id collate "C") x.program_id, x.consortium_id,
           x.occurred_value, x.occurred_precision, x.occurred_start, x.occurred_end
    from enrolment_elimination x
    where x.program_id = any (${programIdArray(programIds)})
      and x.occurred_start < ${worldCut(cut)} and x.recorded_at < ${knownCut(cut)} and ${unretracted('x.retracted_at', cut)}
      and exists (select 1 from enrolment_entry en
                  where en.program_id = x.program_id and en.consortium_id = x.consortium_id and ${defined('en', cut)})
    order by x.program_id, x.consortium_id collate "C", x.occurred_start, x.position`;

const toElimination = (r: AsJson<EliminationRow>): Elimination => ({
  programId: r.program_id,
  consortiumId: r.consortium_id,
  eliminatedAt: toFuzzy(r.occurred_value, r.occurred_precision, r.occurred_start, r.occurred_end),
});

/**
 * The programs, their milestones and, if asked, their cells at the cut, in one statement: a view's
 * statements cost more than their rows (each wakes PostgreSQL, on the core the service runs on),
 * and three of them were most of a busy program's page at 32 clients. Its parts row (part = 0)
 * holds the programs and the milestones, each a JSON array in its own query's order; each cell is a
 * row of its own (part = 1). As a JSON array too, the cells took PostgreSQL twice as long to write as rows on
 * a busy matrix (84 cells): composing JSON per row cost more than finding the rows.
 */
export async function findProgramParts(db: Db, selection: CellSelection, cut: ReadCut, withCells: boolean): Promise<ProgramParts> {
  if (noPrograms(selection.programIds)) return { programs: new Map(), milestones: [], cells: [], eliminations: [] };
  const { rows } = await programPartsStatement(db, { selection, cut, withCells });
  return toProgramParts(rows);
}

interface ProgramPartsInput {
  readonly selection: CellSelection;
  readonly cut: ReadCut;
  readonly withCells: boolean;
}

const programPartsStatement = shapedStatement<ProgramPartsInput, ProgramPartsRow>(
  ({ selection, cut, withCells }, s) => ({
    selection: selectionStandIns(selection, s),
    cut: cutStandIns(cut, s),
    withCells: s.choice(withCells),
  }),
  ({ selection, cut, withCells }, db) => {
    // The matrix alone shows them: not a program's page (no cells), nor one milestone's view.
    const matrix = withCells && selection.milestone === undefined;
    const more = matrix ? [sql`(select json_agg(x) from (${eliminationsQuery(selection.programIds, cut)}) x) as eliminations`] : [];
    return sql<ProgramPartsRow>`${partsStatement(db, selection, cut, withCells, more)} ${PREPARED}`;
  },
);

/** The row of a parts statement that holds its parts; every other row holds a cell. */
const PARTS_ROW = 0;
const CELL_ROW = 1;

export interface ProgramPartsRow extends NoCellRow {
  part: number;
  programs: AsJson<DefinitionRow & { program_id: string }>[] | null;
  milestones: AsJson<MilestoneRow>[] | null;
  /** Only in a matrix's parts. */
  eliminations?: AsJson<EliminationRow>[] | null;
}

/**
 * The parts row (`more`: further parts, each a column named `as …`) and, with cells, the cells'
 * rows. A UNION matches columns by position, so the cells' rows put a null in each part's place,
 * one for each, and their own columns come from one list (cell-states.ts). SQL leaves the order of
 * a UNION's rows open, so the cells are read unordered and put in the order of their key once read
 * (toProgramParts): one sort, in the service, not in the database, which does not scale out.
 */
function partsStatement(db: Db, selection: PartsSelection, cut: ReadCut, withCells: boolean, more: readonly RawBuilder<unknown>[]) {
  const programs = programEntriesQuery(db, selection.programIds, cut);
  const milestones = milestoneEntriesQuery(db, selection.programIds, cut, selection.milestone);
  const parts = [
    sql`(select json_agg(p) from (${programs}) p) as programs`,
    sql`(select json_agg(m) from (${milestones}) m) as milestones`,
    ...more,
  ];
  const partsRow = sql`select ${sql.lit(PARTS_ROW)} as part, ${sql.join(parts)}, ${NO_CELL}`;
  if (!withCells) return partsRow;
  return sql`
    ${partsRow}
    union all
    select ${sql.lit(CELL_ROW)}, ${sql.join(parts.map(() => sql`null`))}, ${CELL_COLUMNS_OF_C} from (${cellsQuery(selection, cut)}) c`;
}

/** A parts statement's rows as the views read them: the parts, and the cells in key order. */
export const toProgramParts = (rows: readonly ProgramPartsRow[]): ProgramParts => {
  const head = rows.find((r) => r.part === PARTS_ROW);
  return {
    programs: new Map((head?.programs ?? []).map((r) => [r.program_id, toDefinition(r)])),
    milestones: (head?.milestones ?? []).map(toMilestoneEntry),
    eliminations: (head?.eliminations ?? []).map(toElimination),
    cells: rows
      .filter((r) => r.part === CELL_ROW)
      .map((r) => {
        const cell = toCellRow(r);
        // Every cell column is NOT NULL: a row without one is a fault of this statement, not a cell to leave out.
        if (cell === undefined) throw new Error(`a cell row of a parts statement has a null column: ${JSON.stringify(r)}`);
        return toCellState(cell);
      })
      .sort(byCellKey),
  };
};

export interface ConsortiumParts extends ProgramParts {
  readonly consortium: Definition | undefined;
  /** A page of the programs it is enrolled in at the cut, in the order of their enrolment. */
  readonly enrolments: readonly EnrolmentEntry[];
  /** The key of the page's last enrolment, when more follow. */
  readonly next: WorldKey | undefined;
}

/**
 * A consortium at the cut, its enrolments, and its programs' parts (findProgramParts) for its own
 * cells and the program-scope ones, in one statement: the programs are those of its enrolments,
 * read once (the CTE, referenced more than once, is computed once, in its query's order).
 */
export async function findConsortiumParts(db: Db, consortiumId: string, cut: ReadCut, page: EnrolmentPage): Promise<ConsortiumParts> {
  const { rows } = await consortiumPartsStatement(db, { consortiumId, cut, page: { after: page.after, limit: pageRead(page.limit) } });
  const row = rows.find((r) => r.part === PARTS_ROW);
  const { items, last } = pageOf((row?.enrolments ?? []).map(toEnrolment), page.limit);
  // The cells and milestones of the row read past the page (pageRead) are left out with it.
  const shown = new Set(items.map((e) => e.programId));
  const parts = toProgramParts(rows);
  return {
    programs: parts.programs,
    milestones: parts.milestones.filter((m) => shown.has(m.programId)),
    cells: parts.cells.filter((c) => shown.has(c.programId)),
    eliminations: [],
    consortium: row === undefined || row.consortium === null ? undefined : toDefinition(row.consortium),
    enrolments: items,
    next: last?.key,
  };
}

type ConsortiumPartsRow = ProgramPartsRow & { consortium: AsJson<DefinitionRow> | null; enrolments: AsJson<EnrolmentRow>[] | null };

interface ConsortiumPartsInput {
  readonly consortiumId: string;
  readonly cut: ReadCut;
  readonly page: EnrolmentPage;
}

const consortiumPartsStatement = shapedStatement<ConsortiumPartsInput, ConsortiumPartsRow>(
  ({ consortiumId, cut, page }, s) => ({
    consortiumId: s.text(consortiumId),
    cut: cutStandIns(cut, s),
    page: { after: optionalWorldKey(page.after, s), limit: s.count(page.limit) },
  }),
  ({ consortiumId, cut, page }, db) => {
    const enrolled = sql<readonly string[]>`array(select e.program_id from enrolments e)`;
    const more = [
      sql`(select row_to_json(x) from (${consortiumEntryQuery(db, consortiumId, cut)}) x) as consortium`,
      sql`(select json_agg(e order by e.occurred_start, e.position::bigint) from enrolments e) as enrolments`,
    ];
    return sql<ConsortiumPartsRow>`
    with enrolments as (${enrolmentsQuery(consortiumId, cut, page)})
    ${partsStatement(db, { programIds: enrolled, consortiumId }, cut, true, more)} ${PREPARED}`;
  },
);
