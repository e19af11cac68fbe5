import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

/**
 * Every read-model row a program has (steps, evidence, cells, step spans), in a fixed order: what
 * a rebuild must write again row for row.
 */
export async function readModelRowsOf(db: Db, programId: string) {
  const steps = await sql`select * from cell_step where program_id = ${programId} order by consortium_id, milestone, v_start, v_position, known_from`.execute(db);
  const evidence = await sql`select * from cell_evidence where program_id = ${programId} order by consortium_id, milestone, v_start, v_position`.execute(db);
  const cells = await sql`select * from milestone_cell where program_id = ${programId} order by consortium_id, milestone`.execute(db);
  const spans = await sql`select * from cell_step_span where program_id = ${programId} order by consortium_id, milestone, v_start, v_position`.execute(db);
  return { steps: steps.rows, evidence: evidence.rows, cells: cells.rows, spans: spans.rows };
}
