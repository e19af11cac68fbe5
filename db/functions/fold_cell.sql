-- Folds one cell's timeline anew from the world key (p_from_start, p_from_position) on, as believed
-- from p_known: the rows believed until now from that key on are superseded (known_to), and their
-- events, with p_extra and without those retracted by p_known, are folded in world-time order on
-- top of the state just before the key, one row each. An event recorded in world-time order
-- supersedes nothing and writes one row; a late event or a retraction rewrites only what follows it.
-- The rule is the catalogue's, as data: status_transition (db/catalogue-rules.ts), event_type_rule.
-- cell_evidence gets one row per evidential event new to the cell (p_extra), never rewritten.
-- milestone_cell keeps the state the fold ends in and the cell's latest evidence ids, newest first
-- in world time, at most cell_evidence_limit(): what the current views read without the timeline.
create or replace function fold_cell(p_program text, p_milestone text, p_consortium text,
                                     p_from_start timestamptz, p_from_position bigint, p_known timestamptz, p_extra uuid[])
returns void language plpgsql set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_cell milestone_cell;
  v_superseded uuid[];
  v_base cell_step;
  v_plan milestone_entry;
  v_status text;
  v_next text;
  v_since_value text;
  v_since_precision text;
  v_since_start timestamptz;
  v_since_end timestamptz;
  v_set_by uuid;
  v_count integer;
  v_evidence uuid[];
  v_last_start timestamptz := '-infinity';
  v_last_position bigint := 0;
  r record;
begin
  select * into v_cell from milestone_cell c
  where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
  if found and (p_from_start, p_from_position) > (v_cell.last_start, v_cell.last_position) then
    -- News in world-time order (the usual case): nothing to supersede, and the state before it is
    -- the cell's current state, which every fold leaves in milestone_cell.
    v_superseded := '{}';
    v_status := v_cell.status;
    v_since_value := v_cell.since_value;
    v_since_precision := v_cell.since_precision;
    v_since_start := v_cell.since_start;
    v_since_end := v_cell.since_end;
    v_set_by := v_cell.set_by;
    v_count := v_cell.evidence_count;
    v_evidence := v_cell.evidence;
    v_last_start := v_cell.last_start;
    v_last_position := v_cell.last_position;
  else
    v_superseded := supersede_steps(p_program, p_milestone, p_consortium, p_from_start, p_from_position, p_known);

    select * into v_base from cell_step s
    where s.program_id = p_program and s.milestone = p_milestone and s.consortium_id = p_consortium
      and s.known_to = 'infinity' and (s.v_start, s.v_position) < (p_from_start, p_from_position)
    order by s.v_start desc, s.v_position desc
    limit 1;
    if found then
      v_status := v_base.status;
      v_since_value := v_base.since_value;
      v_since_precision := v_base.since_precision;
      v_since_start := v_base.since_start;
      v_since_end := v_base.since_end;
      v_set_by := v_base.set_by;
      v_count := v_base.evidence_count;
      v_last_start := v_base.v_start;
      v_last_position := v_base.v_position;
    else
      -- Before anything has moved it, a cell is planned since its plan.
      select * into v_plan from milestone_entry m where m.program_id = p_program and m.milestone = p_milestone;
      v_status := 'planned';
      v_since_value := v_plan.occurred_value;
      v_since_precision := v_plan.occurred_precision;
      v_since_start := v_plan.occurred_start;
      v_since_end := v_plan.occurred_end;
      v_set_by := v_plan.event_id;
      v_count := 0;
    end if;
    -- The latest evidence before the key, as believed now: one bounded index range, whatever the history.
    v_evidence := latest_evidence(p_program, p_milestone, p_consortium, p_from_start, p_from_position);
  end if;

  for r in
    select e.id, e.type, e.occurred_value, e.occurred_precision, e.occurred_start, e.occurred_end, e.position, e.recorded_at, t.role
    from event e join event_type_rule t on t.type = e.type
    -- Retracted by p_known? LIMIT keeps it a look-up by key per event: as an anti-join, a plan made
    -- while retraction was empty read the whole table in every fold (test/store/fold-plans.test.ts).
    left join lateral (select true as retracted from retraction x join event rx on rx.id = x.retracted_by
                       where x.event_id = e.id and rx.recorded_at <= p_known limit 1) gone on true
    where e.id = any (v_superseded || p_extra) and gone.retracted is null
    order by e.occurred_start, e.position
  loop
    -- While nothing has moved it, a cell is planned since its latest defining event.
    if r.role in ('plan', 'enrolment') and v_status = 'planned' then
      v_since_value := r.occurred_value;
      v_since_precision := r.occurred_precision;
      v_since_start := r.occurred_start;
      v_since_end := r.occurred_end;
      v_set_by := r.id;
    end if;
    select tr.to_status into v_next from status_transition tr where tr.type = r.type and tr.from_status = v_status;
    if found then
      v_status := v_next;
      v_since_value := r.occurred_value;
      v_since_precision := r.occurred_precision;
      v_since_start := r.occurred_start;
      v_since_end := r.occurred_end;
      v_set_by := r.id;
    end if;
    -- What defines the cell (its plan, the enrolment) is not evidence of its status (SPEC §4).
    if r.role not in ('plan', 'enrolment') then
      v_count := v_count + 1;
      -- Folded in world-time order, so each is the newest yet.
      v_evidence := (r.id || v_evidence)[1:cell_evidence_limit()];
      -- Evidence is written once, when its event is new to the cell; a re-fold only re-reads it.
      if r.id = any (p_extra) then
        insert into cell_evidence (program_id, milestone, consortium_id, v_start, v_position, event_id, recorded_at)
        values (p_program, p_milestone, p_consortium, r.occurred_start, r.position, r.id, r.recorded_at);
      end if;
    end if;
    insert into cell_step (program_id, milestone, consortium_id, v_start, v_position, event_id, known_from, status,
                           since_value, since_precision, since_start, since_end, set_by, evidential, evidence_count)
    values (p_program, p_milestone, p_consortium, r.occurred_start, r.position, r.id, p_known, v_status,
            v_since_value, v_since_precision, v_since_start, v_since_end, v_set_by, r.role not in ('plan', 'enrolment'), v_count);
    v_last_start := r.occurred_start;
    v_last_position := r.position;
  end loop;

  update milestone_cell c
  set status = v_status, since_value = v_since_value, since_precision = v_since_precision, since_start = v_since_start,
      since_end = v_since_end, set_by = v_set_by, evidence_count = v_count, evidence = v_evidence, last_start = v_last_start, last_position = v_last_position
  where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
end $$;
