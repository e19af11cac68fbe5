-- Keeps the read model up to date with events just written (in the append transaction) or read
-- back from the log (a rebuild): registries first, then every cell the events bear on, each
-- cell's events in recording order.
create or replace function project_events(p_ids uuid[]) returns void language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  c record;
  v_roles text[];
begin
  -- Most facts name no milestone: then nothing here changes.
  select array_agg(distinct r.role) into v_roles from event e join event_type_rule r on r.type = e.type
  where e.id = any (p_ids) and (r.role <> 'fact' or e.milestone is not null);
  if v_roles is null then
    return;
  end if;
  -- The common append is facts alone: then no registry changes, and only the cells are folded.
  if v_roles <> array['fact'] then
    perform project_definitions(p_ids);
  end if;
  for c in
    select t.program_id, t.milestone, t.consortium_id, array_agg(t.event_id order by t.recorded_at, t.event_position) as ids
    from touched_cells(p_ids) t
    group by t.program_id, t.milestone, t.consortium_id
    order by t.program_id collate "C", t.milestone collate "C", t.consortium_id collate "C"
  loop
    perform apply_to_cell(c.program_id, c.milestone, c.consortium_id, c.ids);
  end loop;
end $$;
