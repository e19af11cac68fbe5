-- The cells each of these events bears on (SPEC §4), from the registries, never from the log:
--   a fact: the cell it names (the program's own for a program-scope milestone);
--   a plan or a reschedule: every cell of the milestone (of each consortium it concerns);
--   an enrolment or an elimination: the consortium's cells in the program;
--   a retraction: whatever the event it retracts bore on.
-- A cell whose milestone or enrolment is not defined yet is named all the same; apply_to_cell
-- creates it once both definitions are there.
create or replace function touched_cells(p_ids uuid[])
returns table (program_id text, milestone text, consortium_id text, event_id uuid, recorded_at timestamptz, event_position bigint)
language plpgsql stable set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
begin
  return query
  with subject as materialized (
    select e.id, e.recorded_at, e.position, coalesce(tr.role, r.role) as role,
           coalesce(t.program_id, e.program_id) as program_id, coalesce(t.milestone, e.milestone) as milestone,
           coalesce(t.consortium_id, e.consortium_id) as consortium_id
    from event e
    join event_type_rule r on r.type = e.type
    left join lateral (select x.type, x.program_id, x.milestone, x.consortium_id from event x
                       where r.role = 'retraction' and x.id = (e.data ->> 'eventId')::uuid limit 1) t on true
    left join event_type_rule tr on tr.type = t.type
    where e.id = any (p_ids) and r.role in ('plan', 'reschedule', 'enrolment', 'elimination', 'fact', 'retraction')
  )
  -- Each registry is read per event by key, in a lateral subquery that LIMIT or OFFSET keeps from
  -- being turned into a join: as joins, plans made while the registries were small read all of
  -- them in every append (test/store/fold-plans.test.ts).
  select s.program_id, s.milestone, case when m.scope = 'program' then '' else s.consortium_id end, s.id, s.recorded_at, s.position
  from subject s
  cross join lateral (select m.scope, m.participants from milestone_entry m
                      where m.program_id = s.program_id and m.milestone = s.milestone limit 1) m
  where s.role = 'fact'
    and (m.scope = 'program' or (s.consortium_id is not null and (m.participants is null or s.consortium_id = any (m.participants))))
  union all
  select s.program_id, s.milestone, coalesce(en.consortium_id, ''), s.id, s.recorded_at, s.position
  from subject s
  cross join lateral (select m.scope, m.participants from milestone_entry m
                      where m.program_id = s.program_id and m.milestone = s.milestone limit 1) m
  left join lateral (select en.consortium_id from enrolment_entry en
                     where m.scope = 'consortium' and en.program_id = s.program_id
                       and (m.participants is null or en.consortium_id = any (m.participants))
                     offset 0) en on true
  where s.role in ('plan', 'reschedule') and (m.scope = 'program' or en.consortium_id is not null)
  union all
  select s.program_id, m.milestone, s.consortium_id, s.id, s.recorded_at, s.position
  from subject s
  cross join lateral (select m.milestone from milestone_entry m
                      where m.program_id = s.program_id and m.scope = 'consortium'
                        and (m.participants is null or s.consortium_id = any (m.participants))
                      offset 0) m
  where s.role in ('enrolment', 'elimination') and s.consortium_id is not null;
end $$;
