import { sql, type Kysely } from 'kysely';

/*
 * The steps a late event or a retraction superseded get an index of their own, apart from the
 * steps believed now (cell_step_current). Before, one index held every version of every step, and
 * the reads of the steps believed now (fold_cell.sql's re-fold of what follows a late event, an
 * asOf read) could be planned on it: they then passed over every version the cell's churn had left
 * after the key, a cost that grew with the cell's history of late news. Measured on a 60k-event
 * history, one late fact's re-fold read 2,071 versions to supersede 91 current steps. Now a read of
 * the current steps can only use the current index; a read at a knownAt cut-off searches the
 * current steps, then the superseded versions above the step it found (src/store/read-model.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index cell_step_versions`.execute(db);
  await sql`
    create index cell_step_superseded on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (known_from, known_to, event_id, evidential) where known_to <> 'infinity'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index cell_step_superseded`.execute(db);
  await sql`
    create index cell_step_versions on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (known_from, known_to, event_id, evidential)`.execute(db);
}
