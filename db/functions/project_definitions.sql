-- The registries' part of project_events(): what the events define (programs, consortiums,
-- milestones, enrolments), the changes to them that can be retracted (reschedules, eliminations),
-- and the retraction of those changes.
create or replace function project_definitions(p_ids uuid[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
begin
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
end $$;
