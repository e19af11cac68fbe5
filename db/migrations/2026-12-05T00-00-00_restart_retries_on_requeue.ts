import { sql, type Kysely } from 'kysely';

/*
 * Where a delivery's retry schedule began: the attempt count then (src/store/webhook-deliveries.ts).
 * The schedule was read from the attempt count alone, so a delivery recovered or redelivered by
 * hand after its last scheduled retry had one attempt and no retry (the schedule was spent), and an
 * attempt the dispatcher itself cut short, stopping, used up a retry (an independent review). A
 * requeue by hand starts the schedule again; an attempt cut short does not count toward it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery add column schedule_start integer not null default 0`.execute(db);
  // What is under way already: a delivery queued by hand and not tried since starts its schedule
  // again; any other counts out the attempts it had cut short (its schedule began at 0 then).
  await sql`
    update webhook_delivery d
    set schedule_start = case when d.state = 'pending' and d.next_trigger in ('manual', 'recover') then d.attempt_count
                              else (select count(*)::integer from webhook_attempt a where a.delivery_id = d.id and a.error_kind = 'aborted') end
    where (d.state = 'pending' and d.next_trigger in ('manual', 'recover'))
       or exists (select 1 from webhook_attempt a where a.delivery_id = d.id and a.error_kind = 'aborted')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_delivery drop column schedule_start`.execute(db);
}
