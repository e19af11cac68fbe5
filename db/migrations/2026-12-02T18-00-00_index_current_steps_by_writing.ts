import { sql, type Kysely } from 'kysely';

/*
 * The steps believed now, ordered by when each was written. A read at asOf and knownAt needs the
 * latest current step written before K below W. Along the current timeline a step later in world
 * time was written no earlier, so the current steps written before K are the timeline's
 * first ones: the latest of them is one probe of this index, and bounds the search of
 * cell_step_current below W, which then passes over nothing (src/store/read-model.ts, stateAt).
 * Before, that search filtered the current steps below W by when they were written and passed over
 * every one late news had written again after K: on the busy matrix of a 1M history, 182 a cell.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index cell_step_current_written on cell_step (program_id, milestone, consortium_id, known_from, v_start, v_position)
    where known_to = 'infinity'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index cell_step_current_written`.execute(db);
}
