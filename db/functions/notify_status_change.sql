-- A cell whose status changes is a notification, whatever changed it: a new fact, a late backfill,
-- a retraction, an elimination. Its cause is the event that set the new status when this
-- transaction recorded it; else the event of this transaction that bears most closely on the cell
-- (a retraction carries its target's subject), the latest first. A rebuild records no event and so
-- notifies nothing: it recomputes history, it does not change it.
create or replace function notify_status_change() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan set jit = off as $$
declare
  v_from text := case when tg_op = 'INSERT' then 'planned' else old.status end;
  v_cause uuid;
begin
  if v_from = new.status then
    return null;
  end if;
  select e.id into v_cause from event e
  where e.tx = pg_current_xact_id() and e.program_id = new.program_id
  order by (e.id = new.set_by) desc,
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
end $$;
