-- Applies events to one cell, a batch (one recorded_at) at a time in recording order. The first
-- batch that finds both the cell's definitions recorded (its plan, and its consortium's enrolment
-- for consortium scope) creates the cell and folds what was recorded about it until then. Each
-- later batch folds the timeline once, from the earliest world key it touches on: its own events'
-- keys, and the keys of the events it retracts.
-- An append brings one batch. A rebuild brings a cell's whole history, mostly batches each later in
-- world time than all the cell holds: such a batch supersedes nothing, and is folded in one call
-- with the batches before it, each step believed from its own event's recording (fold_cell.sql),
-- as batch by batch.
create or replace function apply_to_cell(p_program text, p_milestone text, p_consortium text, p_ids uuid[])
returns void language plpgsql set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_exists boolean;
  v_plan milestone_entry;
  v_enrolment enrolment_entry;
  v_retracted record;
  -- The world key of the cell's latest step, once read; null when a fold may have moved it.
  v_last_start timestamptz;
  v_last_position bigint;
  -- The run of batches not folded yet: a batch, and the in-order batches after it.
  v_run_start timestamptz;
  v_run_position bigint;
  v_run_known timestamptz;
  v_run_ids uuid[];
  v_run_last_start timestamptz;
  v_run_last_position bigint;
  v_id uuid;
  b record;
begin
  v_exists := exists (select 1 from milestone_cell c
                      where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium);
  -- Each batch, with its first and last world keys: its own events', and those of the events it
  -- retracts. LIMIT keeps the look-up of a retracted event one by key, as in append_events.sql.
  for b in
    select e.recorded_at, array_agg(e.id) filter (where t.role <> 'retraction') as ids,
           array_agg(e.id) as all_ids, bool_or(t.role = 'retraction') as retracts,
           (array_agg(k.occurred_start order by k.occurred_start, k.position))[1] as first_start,
           (array_agg(k.position order by k.occurred_start, k.position))[1] as first_position,
           (array_agg(k.occurred_start order by k.occurred_start desc, k.position desc))[1] as last_start,
           (array_agg(k.position order by k.occurred_start desc, k.position desc))[1] as last_position
    from event e
    join event_type_rule t on t.type = e.type
    cross join lateral (
      select x.occurred_start, x.position from event x
      where x.id = case when t.role = 'retraction' then (e.data ->> 'eventId')::uuid else e.id end
      limit 1
    ) k
    where e.id = any (p_ids)
    group by e.recorded_at
    order by e.recorded_at
  loop
    if not v_exists then
      select * into v_plan from milestone_entry m where m.program_id = p_program and m.milestone = p_milestone;
      select * into v_enrolment from enrolment_entry en where en.program_id = p_program and en.consortium_id = p_consortium;
      if v_plan.event_id is null or v_plan.recorded_at > b.recorded_at
         or (p_consortium <> '' and (v_enrolment.event_id is null or v_enrolment.recorded_at > b.recorded_at))
         or (p_consortium <> '' and v_plan.participants is not null and not p_consortium = any (v_plan.participants)) then
        continue;
      end if;
      insert into milestone_cell (program_id, milestone, consortium_id, status, since_value, since_precision, since_start,
                                  since_end, set_by, evidence_count, exists_start, exists_recorded, last_start, last_position)
      values (p_program, p_milestone, p_consortium, 'planned', v_plan.occurred_value, v_plan.occurred_precision,
              v_plan.occurred_start, v_plan.occurred_end, v_plan.event_id, 0,
              greatest(v_plan.occurred_start, v_enrolment.occurred_start), b.recorded_at, '-infinity', 0);
      v_exists := true;
      perform fold_cell(p_program, p_milestone, p_consortium, '-infinity', 0, b.recorded_at, array(
        select v_plan.event_id
        union all select v_enrolment.event_id where v_enrolment.event_id is not null
        union all select m.event_id from milestone_reschedule m
          where m.program_id = p_program and m.milestone = p_milestone and m.recorded_at <= b.recorded_at
        union all select x.event_id from enrolment_elimination x
          where p_consortium <> '' and x.program_id = p_program and x.consortium_id = p_consortium and x.recorded_at <= b.recorded_at
        union all select unnest(coalesce(b.ids, '{}'))));
      continue;
    end if;

    -- A batch with no retraction that comes later in world time than all the cell holds, the
    -- pending run included, joins the run: it supersedes nothing. The cell's own latest key is read
    -- only then, so that an append (one batch) reads nothing more.
    if v_run_ids is not null and not b.retracts then
      if v_last_start is null then
        select c.last_start, c.last_position into v_last_start, v_last_position from milestone_cell c
        where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
        if (v_run_last_start, v_run_last_position) > (v_last_start, v_last_position) then
          v_last_start := v_run_last_start;
          v_last_position := v_run_last_position;
        end if;
      end if;
      -- A run is held in memory until it is folded: at most 1,000 events.
      if (b.first_start, b.first_position) > (v_last_start, v_last_position) and cardinality(v_run_ids) < 1000 then
        -- array_append extends the array in place; array || array would copy the run each time.
        foreach v_id in array b.ids loop
          v_run_ids := array_append(v_run_ids, v_id);
        end loop;
        v_last_start := b.last_start;
        v_last_position := b.last_position;
        continue;
      end if;
    end if;

    if v_run_ids is not null then
      perform fold_cell(p_program, p_milestone, p_consortium, v_run_start, v_run_position, v_run_known, v_run_ids);
      v_run_ids := null;
      v_last_start := null;
    end if;
    -- What this batch retracts is evidence no more from its recording on (cell_evidence): one
    -- primary-key update each, whatever the size of the cell. Most batches retract nothing, and
    -- then look nothing up.
    if b.retracts then
      for v_retracted in
        select x.occurred_start, x.position
        from event e
        join event_type_rule t on t.type = e.type and t.role = 'retraction'
        join event x on x.id = (e.data ->> 'eventId')::uuid
        where e.id = any (b.all_ids)
      loop
        update cell_evidence ce set retracted_at = b.recorded_at
        where ce.program_id = p_program and ce.milestone = p_milestone and ce.consortium_id = p_consortium
          and ce.v_start = v_retracted.occurred_start and ce.v_position = v_retracted.position;
      end loop;
    end if;
    -- The batch starts a run, folded from its first key (fold_cell supersedes what follows, if anything).
    v_run_start := b.first_start;
    v_run_position := b.first_position;
    v_run_known := b.recorded_at;
    v_run_ids := coalesce(b.ids, '{}');
    v_run_last_start := b.last_start;
    v_run_last_position := b.last_position;
  end loop;
  if v_run_ids is not null then
    perform fold_cell(p_program, p_milestone, p_consortium, v_run_start, v_run_position, v_run_known, v_run_ids);
  end if;
end $$;
