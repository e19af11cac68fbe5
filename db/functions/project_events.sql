-- Keeps the read model up to date with events just written (in the append transaction) or read
-- back from the log (a rebuild): registries first, then every cell the events bear on, each
-- cell's events in recording order.
create or replace function project_events(p_ids uuid[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set jit = off as $$
declare
  c record;
begin
  -- Most facts name no milestone: then nothing here changes.
  if not exists (select 1 from event e join event_type_rule r on r.type = e.type
                 where e.id = any (p_ids) and (r.role <> 'fact' or e.milestone is not null)) then
    return;
  end if;
  insert into program_entry (program_id, schema_version, data, occurred_value, occurred_precision, occurred_start,
                             occurred_end, recorded_at, position, event_id)
  select e.program_id, e.schema_version, e.data, e.occurred_value, e.occurred_precision, e.occurred_start,
         e.occurred_end, e.recorded_at, e.position, e.id
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'program'
  on conflict do nothing;
  insert into consortium_entry (consortium_id, schema_version, data, occurred_value, occurred_precision, occurred_start,
                                occurred_end, recorded_at, position, event_id)
  select e.consortium_id, e.schema_version, e.data, e.occurred_value, e.occurred_precision, e.occurred_start,
         e.occurred_end, e.recorded_at, e.position, e.id
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'consortium'
  on conflict do nothing;
  insert into milestone_entry (program_id, milestone, scope, participants, schema_version, data, occurred_value,
                               occurred_precision, occurred_start, occurred_end, recorded_at, position, event_id)
  select e.program_id, e.milestone, e.data ->> 'scope',
         case when e.data ? 'consortiums' then array(select jsonb_array_elements_text(e.data -> 'consortiums')) end,
         e.schema_version, e.data, e.occurred_value, e.occurred_precision,
         e.occurred_start, e.occurred_end, e.recorded_at, e.position, e.id
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'plan'
  on conflict do nothing;
  insert into enrolment_entry (program_id, consortium_id, schema_version, data, occurred_value, occurred_precision,
                               occurred_start, occurred_end, recorded_at, position, event_id)
  select e.program_id, e.consortium_id, e.schema_version, e.data, e.occurred_value, e.occurred_precision,
         e.occurred_start, e.occurred_end, e.recorded_at, e.position, e.id
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'enrolment'
  on conflict do nothing;
  insert into milestone_reschedule (event_id, program_id, milestone, schema_version, data, occurred_start, position, recorded_at)
  select e.id, e.program_id, e.milestone, e.schema_version, e.data, e.occurred_start, e.position, e.recorded_at
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'reschedule';
  insert into enrolment_elimination (event_id, program_id, consortium_id, occurred_value, occurred_precision,
                                     occurred_start, occurred_end, position, recorded_at)
  select e.id, e.program_id, e.consortium_id, e.occurred_value, e.occurred_precision, e.occurred_start, e.occurred_end,
         e.position, e.recorded_at
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'elimination';
  update milestone_reschedule m set retracted_at = e.recorded_at
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'retraction' and m.event_id = (e.data ->> 'eventId')::uuid;
  update enrolment_elimination x set retracted_at = e.recorded_at
  from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and r.role = 'retraction' and x.event_id = (e.data ->> 'eventId')::uuid;

  for c in
    select t.program_id, t.milestone, t.consortium_id, array_agg(t.event_id order by t.recorded_at, t.event_position) as ids
    from touched_cells(p_ids) t
    group by t.program_id, t.milestone, t.consortium_id
    order by t.program_id collate "C", t.milestone collate "C", t.consortium_id collate "C"
  loop
    perform apply_to_cell(c.program_id, c.milestone, c.consortium_id, c.ids);
  end loop;
end $$;
