-- Fan-out: each new notification becomes a delivery for every subscription whose topics and
-- filter match (the trigger notification_fan_out, migration 2026-11-22T17-30-00). A disabled
-- subscription gets its deliveries already failed, so that recovering "since a date" after
-- re-enabling it sends what it missed. Workers are woken at commit. Subscriptions are matched by a
-- condition no index serves: every subscription is read (sequential scans being off, through its
-- index), once per statement; they do not grow with the log.
create or replace function fan_out_notifications() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_count integer;
begin
  insert into webhook_delivery (notification_id, notification_position, subscription_id, state, next_attempt_at, last_error, completed_at)
  select n.id, n.position, s.id,
         case when s.status = 'disabled' then 'failed' else 'pending' end,
         -- Due from now, the moment the notification exists, not from the append's start: workers
         -- take a subscription's deliveries by when they are due, and an append that waited for a
         -- lock (its statement begun before another's, its position taken after) had its stream's
         -- later version sent before the earlier one (found by the probe of several instances).
         clock_timestamp(),
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
end $$;
