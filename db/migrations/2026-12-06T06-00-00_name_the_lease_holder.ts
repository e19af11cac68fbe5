import { sql, type Kysely } from 'kysely';

/*
 * Which instance holds a delivery's lease, since when, and for which lease (leased_for, the
 * lease_id it took). An attempt whose lease ran out was logged under the instance that put it back
 * in the queue, and as started then: the log named a live instance for a dead one's lost attempt.
 * The holder is believed only for the lease it names: a release before this one claims without
 * setting these, and leaves a newer claim's in place. Nullable, with no default: added without
 * rewriting the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery add column leased_by text, add column leased_at timestamptz, add column leased_for uuid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery drop column leased_for, drop column leased_at, drop column leased_by`.execute(db);
}
