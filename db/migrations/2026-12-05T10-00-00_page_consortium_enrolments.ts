import { sql, type Kysely } from 'kysely';

/*
 * A consortium's status is paged by its enrolments in world-time order (GET
 * /v1/consortiums/{id}/status?limit=&after=): a page is the first `limit` entries of this range
 * after the cursor, at any cut-off, rather than every enrolment of the consortium read and sorted
 * for each page, a cost that grew with the programs it had joined (src/store/read-model.ts,
 * enrolmentsQuery).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index enrolment_entry_consortium_world on enrolment_entry (consortium_id, occurred_start, position)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index enrolment_entry_consortium_world`.execute(db);
}
