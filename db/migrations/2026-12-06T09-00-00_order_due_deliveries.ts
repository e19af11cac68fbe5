import { sql, type Kysely } from 'kysely';

/*
 * A claim takes each subscription's due deliveries in order of when they are due and, within one
 * instant, of their notifications (src/store/webhook-deliveries.ts): the index it read,
 * webhook_delivery_due (subscription_id, next_attempt_at), had the first order only, so deliveries
 * due at one instant (a recover, the reaper of expired leases, a fan-out faster than the clock) were
 * all read and sorted for the few a claim takes: 20,000 for 4 (test "reads about as many deliveries
 * as it takes …"), and, with statistics taken while the backlog was small, every due delivery of the
 * subscription (the probe of webhooks at volume: 43,123 rows, 75 ms a subscription, 40 deliveries a
 * second where 400 were sent once the table was analyzed). This one has the claim's whole order.
 * The old index is dropped after the migrations, concurrently (db/retired-indexes.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index webhook_delivery_due_in_order on webhook_delivery (subscription_id, next_attempt_at, notification_position)
    where state = 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The index the claim read before, which the start after this migration drops.
  await sql`create index if not exists webhook_delivery_due on webhook_delivery (subscription_id, next_attempt_at) where state = 'pending'`.execute(db);
  await sql`drop index webhook_delivery_due_in_order`.execute(db);
}
