import { sql, type Kysely } from 'kysely';

/*
 * Which instance holds a delivery's lease, and since when. An attempt whose lease ran out was
 * logged under the instance that put it back in the queue, and as started then: the log named a
 * live instance for a dead one's lost attempt. Nullable, with no default: added without rewriting
 * the table; deliveries in flight during the upgrade are logged as before when reclaimed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery add column leased_by text, add column leased_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery drop column leased_at, drop column leased_by`.execute(db);
}
