import { sql, type Selectable } from 'kysely';
import { parseFuzzyDate, Precision } from '../domain/fuzzy-date.js';
import { MilestoneStatus } from '../domain/milestone-status.js';
import type { Db, MilestoneCellTable } from './database.js';

/** A cell as the projection keeps it; overdue is left to the reader, who knows "now". */
export interface StoredCell {
  readonly programId: string;
  readonly milestone: string;
  readonly consortiumId: string | undefined;
  readonly status: MilestoneStatus;
  readonly since: { value: string; precision: Precision; start: Date; end: Date };
  readonly due: ReturnType<typeof parseFuzzyDate>;
  readonly evidence: readonly string[];
}

const COLUMNS = [
  'program_id',
  'milestone',
  'consortium_id',
  'status',
  'since_value',
  'since_precision',
  'since_start',
  'since_end',
  'due_value',
  'evidence',
] as const;

type CellRow = Pick<Selectable<MilestoneCellTable>, (typeof COLUMNS)[number]>;


const toCell = (row: CellRow): StoredCell => ({
  programId: row.program_id,
  milestone: row.milestone,
  consortiumId: row.consortium_id === '' ? undefined : row.consortium_id,
  status: MilestoneStatus.parse(row.status),
  since: { value: row.since_value, precision: Precision.parse(row.since_precision), start: row.since_start, end: row.since_end },
  due: row.due_value === null ? undefined : parseFuzzyDate(row.due_value),
  evidence: row.evidence,
});

/** Every cell of a program, by milestone and consortium. */
export async function findProgramCells(db: Db, programId: string): Promise<StoredCell[]> {
  const rows = await db
    .selectFrom('milestone_cell')
    .select(COLUMNS)
    .where('program_id', '=', programId)
    .orderBy(sql`milestone collate "C"`)
    .orderBy(sql`consortium_id collate "C"`)
    .execute();
  return rows.map(toCell);
}

/** A consortium's own cells, and the program-scope cells of the programs it is enrolled in. */
export async function findConsortiumCells(db: Db, consortiumId: string, programIds: readonly string[]): Promise<StoredCell[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .selectFrom('milestone_cell')
    .select(COLUMNS)
    .where('program_id', 'in', programIds)
    .where((eb) => eb.or([eb('consortium_id', '=', consortiumId), eb('consortium_id', '=', '')]))
    .orderBy(sql`program_id collate "C"`)
    .orderBy(sql`milestone collate "C"`)
    .execute();
  return rows.map(toCell);
}

/**
 * Recomputes every cell from the log in one transaction. Readers keep the old cells until it
 * commits; appends that would change a cell wait for it.
 */
export async function rebuildMilestoneCells(db: Db): Promise<{ cells: number; events: number }> {
  return db.transaction().execute(async (trx) => {
    await sql`lock table milestone_cell in exclusive mode`.execute(trx);
    await sql`delete from milestone_cell`.execute(trx);
    await sql`
      select count(refresh_milestone_cell(p.program_id, p.milestone, coalesce(en.consortium_id, ''), null))
      from event p
      left join event en on p.data ->> 'scope' = 'consortium' and en.type = 'consortium.enrolled' and en.program_id = p.program_id
      where p.type = 'milestone.planned'`.execute(trx);
    const { rows } = await sql<{ cells: number; events: number }>`
      select (select count(*)::int from milestone_cell) as cells, (select count(*)::int from event) as events`.execute(trx);
    return rows[0] ?? { cells: 0, events: 0 };
  });
}
