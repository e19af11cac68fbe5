import { sql, type Kysely } from 'kysely';

/*
 * Notifications (SPEC §6) and their webhook deliveries, written in the append transaction (the
 * outbox, research/webhooks.md §2.1): an event that commits has its notifications and deliveries
 * committed with it, and one that rolls back has none.
 *
 * - notification: one per recorded event (topic = its type) and one per change of a milestone
 *   cell's status (topic milestone.status_changed). Ordered for readers as the event feed is, by
 *   (tx, position) below the oldest running transaction, so the live feed never skips a late commit.
 * - subscription, subscription_secret: webhook endpoints and their signing secrets (several during
 *   a rotation's overlap).
 * - webhook_delivery: one per (notification, subscription), the unit of retry; claimed with a lease.
 * - webhook_attempt: one row per HTTP attempt.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notification (
      position bigint generated always as identity primary key,
      id uuid not null unique default gen_random_uuid(),
      topic text not null,
      -- For an event's own notification the event is the payload; it is read when sent.
      event_id uuid,
      program_id text,
      consortium_id text,
      data jsonb,
      -- A test ping concerns one subscription: it is delivered to it alone and kept out of the feed.
      only_subscription uuid,
      created_at timestamptz not null default statement_timestamp(),
      tx xid8 not null default pg_current_xact_id()
    )`.execute(db);
  await sql`create index notification_tx_position on notification (tx, position)`.execute(db);

  await sql`
    create table subscription (
      id uuid primary key,
      url text not null,
      topics text[] not null,
      program_id text,
      consortium_id text,
      description text,
      status text not null default 'active' check (status in ('active', 'paused', 'disabled')),
      disabled_reason text,
      failing_since timestamptz,
      max_in_flight integer not null check (max_in_flight between 1 and 64),
      created_at timestamptz not null default statement_timestamp(),
      updated_at timestamptz not null default statement_timestamp()
    )`.execute(db);
  await sql`
    create table subscription_secret (
      id bigint generated always as identity primary key,
      subscription_id uuid not null references subscription on delete cascade,
      secret text not null,
      created_at timestamptz not null default statement_timestamp(),
      -- Null for the current secret; a rotated-out secret signs too until it expires.
      expires_at timestamptz
    )`.execute(db);
  await sql`create index subscription_secret_by_subscription on subscription_secret (subscription_id)`.execute(db);

  await sql`
    create table webhook_delivery (
      id uuid primary key default gen_random_uuid(),
      notification_id uuid not null references notification (id),
      notification_position bigint not null,
      subscription_id uuid not null references subscription on delete cascade,
      state text not null check (state in ('pending', 'in_flight', 'succeeded', 'failed')),
      attempt_count integer not null default 0,
      next_attempt_at timestamptz not null,
      -- Why the next attempt happens: the schedule, or an operator's redeliver / recover.
      next_trigger text not null default 'scheduled' check (next_trigger in ('scheduled', 'manual', 'recover')),
      lease_id uuid,
      lease_until timestamptz,
      last_status integer,
      last_error text,
      created_at timestamptz not null default statement_timestamp(),
      completed_at timestamptz,
      unique (notification_id, subscription_id)
    )`.execute(db);
  await sql`create index webhook_delivery_due on webhook_delivery (subscription_id, next_attempt_at) where state = 'pending'`.execute(db);
  await sql`create index webhook_delivery_in_flight on webhook_delivery (subscription_id, lease_until) where state = 'in_flight'`.execute(db);
  await sql`create index webhook_delivery_leases on webhook_delivery (lease_until) where state = 'in_flight'`.execute(db);
  // Recovery ("failed since a date") and the failed-queue gauge read only failed deliveries.
  await sql`create index webhook_delivery_failed on webhook_delivery (subscription_id, created_at) where state = 'failed'`.execute(db);
  await sql`create index webhook_delivery_by_subscription on webhook_delivery (subscription_id, created_at, id)`.execute(db);

  await sql`
    create table webhook_attempt (
      id bigint generated always as identity primary key,
      delivery_id uuid not null references webhook_delivery on delete cascade,
      attempt_no integer not null,
      trigger text not null check (trigger in ('scheduled', 'manual', 'recover', 'lease_expired')),
      instance text not null,
      started_at timestamptz not null,
      duration_ms integer not null,
      response_status integer,
      error_kind text,
      error_detail text,
      response_body text
    )`.execute(db);
  await sql`create index webhook_attempt_by_delivery on webhook_attempt (delivery_id, id)`.execute(db);

  // Every recorded event is a notification of its own type, in the statement that records it.
  await sql`
    create function notify_recorded_events() returns trigger language plpgsql as $$
    begin
      insert into notification (topic, event_id, program_id, consortium_id)
      select r.type, r.id, r.program_id, r.consortium_id from recorded r order by r.position;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger event_notifications after insert on event
    referencing new table as recorded for each statement execute function notify_recorded_events()`.execute(db);

  /*
   * A cell whose status changes is a notification, whatever changed it: a new fact, a late
   * backfill, a retraction, an elimination. Its cause is the event of the current transaction that
   * bears most closely on the cell. A rebuild records no event and so notifies nothing: it
   * recomputes history, it does not change it.
   */
  await sql`
    create function notify_status_change() returns trigger language plpgsql
    set plan_cache_mode = force_generic_plan set jit = off as $$
    declare
      v_from text := case when tg_op = 'INSERT' then 'planned' else old.status end;
      v_cause uuid;
    begin
      if v_from = new.status then
        return null;
      end if;
      -- First the event that set the new status (in the cell's evidence, dated at its since), then
      -- one about the same consortium (an elimination), then the same milestone (a retraction
      -- carries its target's subject), the latest first.
      select e.id into v_cause from event e
      where e.tx = pg_current_xact_id() and e.program_id = new.program_id
      order by (e.id = any (new.evidence) and e.occurred_start = new.since_start) desc,
               (coalesce(e.consortium_id, '') = new.consortium_id) desc,
               (e.milestone is not distinct from new.milestone) desc, e.position desc
      limit 1;
      if v_cause is null then
        return null;
      end if;
      insert into notification (topic, program_id, consortium_id, data)
      values ('milestone.status_changed', new.program_id, nullif(new.consortium_id, ''),
              jsonb_strip_nulls(jsonb_build_object(
                'programId', new.program_id, 'milestone', new.milestone, 'consortiumId', nullif(new.consortium_id, ''),
                'from', v_from, 'to', new.status, 'causedBy', v_cause)));
      return null;
    end $$`.execute(db);
  await sql`
    create trigger milestone_cell_status after insert or update of status on milestone_cell
    for each row execute function notify_status_change()`.execute(db);

  /*
   * Fan-out: each new notification becomes a delivery for every subscription whose topics and
   * filter match. A disabled subscription gets its deliveries already failed, so that recovering
   * "since a date" after re-enabling it sends what it missed. Workers are woken at commit.
   */
  await sql`
    create function fan_out_notifications() returns trigger language plpgsql
    set plan_cache_mode = force_generic_plan set jit = off as $$
    declare
      v_count integer;
    begin
      insert into webhook_delivery (notification_id, notification_position, subscription_id, state, next_attempt_at, last_error, completed_at)
      select n.id, n.position, s.id,
             case when s.status = 'disabled' then 'failed' else 'pending' end,
             statement_timestamp(),
             case when s.status = 'disabled' then 'subscription disabled' end,
             case when s.status = 'disabled' then statement_timestamp() end
      from created n
      join subscription s on
        case when n.only_subscription is not null then n.only_subscription = s.id
        else (s.program_id is null or s.program_id = n.program_id)
          and (s.consortium_id is null or s.consortium_id = n.consortium_id)
          and exists (select 1 from unnest(s.topics) t
                      where t = '*' or t = n.topic or (right(t, 2) = '.*' and starts_with(n.topic, left(t, -1))))
        end
      order by n.position, s.id
      -- A subscription being deleted concurrently is waited for and then skipped, rather than
      -- failing the append on the foreign key.
      for key share of s;
      get diagnostics v_count = row_count;
      if v_count > 0 then
        perform pg_notify('ml_webhook_due', '');
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger notification_fan_out after insert on notification
    referencing new table as created for each statement execute function fan_out_notifications()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger notification_fan_out on notification`.execute(db);
  await sql`drop trigger milestone_cell_status on milestone_cell`.execute(db);
  await sql`drop trigger event_notifications on event`.execute(db);
  await sql`drop function fan_out_notifications()`.execute(db);
  await sql`drop function notify_status_change()`.execute(db);
  await sql`drop function notify_recorded_events()`.execute(db);
  await sql`drop table webhook_attempt, webhook_delivery, subscription_secret, subscription, notification`.execute(db);
}
