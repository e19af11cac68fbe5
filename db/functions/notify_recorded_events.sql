-- Every recorded event is a notification of its own type, in the statement that records it
-- (the trigger event_notifications, statement-level, migration 2026-11-22T17-30-00).
create or replace function notify_recorded_events() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
begin
  insert into notification (id, topic, event_id, program_id, consortium_id)
  select uuid_v7(), r.type, r.id, r.program_id, r.consortium_id from recorded r order by r.position;
  return null;
end $$;
