import { sql, type Kysely } from 'kysely';

/*
 * The index of the steps believed now also carries when each was written (known_from). A read at
 * asOf and knownAt looks for the latest current step written before K below W, and passes over the
 * current steps late news rewrote after K: on the busy matrix of a 1M history, 186 of them a cell
 * on average, each a heap fetch when the index could not tell when it was written (2,078 of the
 * read's 5,341 buffers). With known_from in the index, that search is index-only
 * (src/store/read-model.ts, stateAt).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index cell_step_current`.execute(db);
  await sql`
    create index cell_step_current on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (event_id, evidential, known_from) where known_to = 'infinity'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index cell_step_current`.execute(db);
  await sql`
    create index cell_step_current on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (event_id, evidential) where known_to = 'infinity'`.execute(db);
}
