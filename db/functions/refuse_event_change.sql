-- Append-only, enforced by the database itself and not merely by the absence of code (the trigger
-- event_is_append_only, migration 2026-11-22T10-00-00).
create or replace function refuse_event_change() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
begin
  raise exception 'events are immutable: % on event is not allowed', tg_op
    using errcode = 'MLIMM', hint = 'record an event.retracted event instead';
end $$;
