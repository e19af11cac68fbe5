-- Folds one cell's timeline anew from the world key (p_from_start, p_from_position) on, as believed
-- from p_known: the rows believed until now from that key on are superseded (known_to), and their
-- events, with p_extra and without those retracted by p_known, are folded in world-time order on
-- top of the state just before the key, one row each. An event recorded in world-time order
-- supersedes nothing and writes one row; a late event or a retraction rewrites only what follows it.
-- A row is believed from p_known, or from its event's recording if that is later: a rebuild folds a
-- run of in-order batches in one call (apply_to_cell.sql).
-- The rule is the catalogue's, as data: status_transitions() (db/catalogue-rules.ts), event_type_rule.
-- cell_evidence gets one row per evidential event new to the cell (p_extra), never rewritten;
-- cell_step_span one per event new to the cell, the moment its step began, and the moment it ended
-- once a re-fold finds its event retracted (the migration 2026-12-04T17-00-00 says why).
-- Each step keeps the cell's latest evidence ids once its event is folded in, newest first in world
-- time, at most cell_evidence_limit(): what a cut-off read takes with the step's state (the
-- migration 2026-12-04T08-00-00 says why). milestone_cell keeps the state the fold ends in and
-- that evidence: what the current views read without the timeline.
create or replace function fold_cell(p_program text, p_milestone text, p_consortium text,
                                     p_from_start timestamptz, p_from_position bigint, p_known timestamptz, p_extra uuid[])
returns void language plpgsql set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_cell milestone_cell;
  v_superseded uuid[];
  v_base record;
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
  v_rules jsonb;
  v_limit integer;
  -- The fold's rows, a column an array, written by one insert each at the end. Arrays of scalars,
  -- not of the tables' row types: a rebuild replaces the tables, and with them their row types,
  -- under every session's compiled copy of this function.
  v_step_starts timestamptz[] := '{}';
  v_step_positions bigint[] := '{}';
  v_step_events uuid[] := '{}';
  v_step_known timestamptz[] := '{}';
  v_step_statuses text[] := '{}';
  v_step_since_values text[] := '{}';
  v_step_since_precisions text[] := '{}';
  v_step_since_starts timestamptz[] := '{}';
  v_step_since_ends timestamptz[] := '{}';
  v_step_set_by uuid[] := '{}';
  v_step_evidential boolean[] := '{}';
  v_step_counts integer[] := '{}';
  -- Each step's evidence, its ids joined by commas: arrays of arrays must all be one length.
  v_step_evidence text[] := '{}';
  v_new_starts timestamptz[] := '{}';
  v_new_positions bigint[] := '{}';
  v_new_events uuid[] := '{}';
  v_new_recorded timestamptz[] := '{}';
  -- Steps that begin with this fold (events new to the cell), and those that end (events retracted).
  v_born_starts timestamptz[] := '{}';
  v_born_positions bigint[] := '{}';
  v_born_events uuid[] := '{}';
  v_born_known timestamptz[] := '{}';
  v_died_starts timestamptz[] := '{}';
  v_died_positions bigint[] := '{}';
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

    select * into v_base from step_before(p_program, p_milestone, p_consortium, p_from_start, p_from_position);
    if found then
      v_status := v_base.step_status;
      v_since_value := v_base.step_since_value;
      v_since_precision := v_base.step_since_precision;
      v_since_start := v_base.step_since_start;
      v_since_end := v_base.step_since_end;
      v_set_by := v_base.step_set_by;
      v_count := v_base.step_evidence_count;
      v_evidence := v_base.step_evidence;
      v_last_start := v_base.step_start;
      v_last_position := v_base.step_position;
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
      v_evidence := '{}';
    end if;
  end if;

  v_rules := status_transitions();
  v_limit := cell_evidence_limit();
  for r in
    select e.id, e.type, e.occurred_value, e.occurred_precision, e.occurred_start, e.occurred_end, e.position, e.recorded_at,
           t.role, s.new, gone.retracted is not null as retracted
    -- The events to fold, each once, and whether it is new to the cell (p_extra) or re-folded.
    from (select x.id, bool_or(x.new) as new
          from (select unnest(v_superseded) as id, false as new union all select unnest(p_extra), true) x
          group by x.id) s
    -- LIMIT keeps each a look-up by key (test/store/fold-plans.test.ts).
    cross join lateral (select * from event e where e.id = s.id limit 1) e
    join event_type_rule t on t.type = e.type
    -- Retracted by p_known? LIMIT keeps it a look-up by key per event: as an anti-join, a plan made
    -- while retraction was empty read the whole table in every fold (test/store/fold-plans.test.ts).
    left join lateral (select true as retracted from retraction x join event rx on rx.id = x.retracted_by
                       where x.event_id = e.id and rx.recorded_at <= p_known limit 1) gone on true
    order by e.occurred_start, e.position
  loop
    -- Retracted by p_known: no step from now on. One that was a step (not new to the cell) ends here.
    if r.retracted then
      if not r.new then
        v_died_starts := v_died_starts || r.occurred_start;
        v_died_positions := v_died_positions || r.position;
      end if;
      continue;
    end if;
    if r.new then
      v_born_starts := v_born_starts || r.occurred_start;
      v_born_positions := v_born_positions || r.position;
      v_born_events := v_born_events || r.id;
      v_born_known := v_born_known || greatest(p_known, r.recorded_at);
    end if;
    -- While nothing has moved it, a cell is planned since its latest defining event.
    if r.role in ('plan', 'enrolment') and v_status = 'planned' then
      v_since_value := r.occurred_value;
      v_since_precision := r.occurred_precision;
      v_since_start := r.occurred_start;
      v_since_end := r.occurred_end;
      v_set_by := r.id;
    end if;
    v_next := v_rules ->> (r.type || ' ' || v_status);
    if v_next is not null then
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
      v_evidence := (r.id || v_evidence)[1:v_limit];
      -- Evidence is written once, when its event is new to the cell; a re-fold only re-reads it.
      if r.new then
        v_new_starts := v_new_starts || r.occurred_start;
        v_new_positions := v_new_positions || r.position;
        v_new_events := v_new_events || r.id;
        v_new_recorded := v_new_recorded || r.recorded_at;
      end if;
    end if;
    v_step_starts := v_step_starts || r.occurred_start;
    v_step_positions := v_step_positions || r.position;
    v_step_events := v_step_events || r.id;
    v_step_known := v_step_known || greatest(p_known, r.recorded_at);
    v_step_statuses := v_step_statuses || v_status;
    v_step_since_values := v_step_since_values || v_since_value;
    v_step_since_precisions := v_step_since_precisions || v_since_precision;
    v_step_since_starts := v_step_since_starts || v_since_start;
    v_step_since_ends := v_step_since_ends || v_since_end;
    v_step_set_by := v_step_set_by || v_set_by;
    v_step_evidential := v_step_evidential || (r.role not in ('plan', 'enrolment'));
    v_step_counts := v_step_counts || v_count;
    v_step_evidence := v_step_evidence || array_to_string(v_evidence, ',');
    v_last_start := r.occurred_start;
    v_last_position := r.position;
  end loop;
  -- One insert each for the fold's rows, whatever their number.
  if cardinality(v_new_events) > 0 then
    insert into cell_evidence (program_id, milestone, consortium_id, v_start, v_position, event_id, recorded_at)
    select p_program, p_milestone, p_consortium, x.* from unnest(v_new_starts, v_new_positions, v_new_events, v_new_recorded) x;
  end if;
  if cardinality(v_born_starts) > 0 then
    insert into cell_step_span (program_id, milestone, consortium_id, v_start, v_position, event_id, born)
    select p_program, p_milestone, p_consortium, x.* from unnest(v_born_starts, v_born_positions, v_born_events, v_born_known) x;
  end if;
  if cardinality(v_died_starts) > 0 then
    update cell_step_span sp set died = p_known
    from unnest(v_died_starts, v_died_positions) x(s, p)
    where sp.program_id = p_program and sp.milestone = p_milestone and sp.consortium_id = p_consortium
      and sp.v_start = x.s and sp.v_position = x.p;
  end if;
  if cardinality(v_step_events) > 0 then
    insert into cell_step (program_id, milestone, consortium_id, v_start, v_position, event_id, known_from, status,
                           since_value, since_precision, since_start, since_end, set_by, evidential, evidence_count, evidence)
    select p_program, p_milestone, p_consortium, x.s, x.p, x.e, x.k, x.st, x.sv, x.sp, x.ss, x.se, x.sb, x.ev, x.c,
           string_to_array(x.ids, ',')::uuid[]
    from unnest(v_step_starts, v_step_positions, v_step_events, v_step_known, v_step_statuses, v_step_since_values,
                v_step_since_precisions, v_step_since_starts, v_step_since_ends, v_step_set_by, v_step_evidential,
                v_step_counts, v_step_evidence) x(s, p, e, k, st, sv, sp, ss, se, sb, ev, c, ids);
  end if;

  update milestone_cell c
  set status = v_status, since_value = v_since_value, since_precision = v_since_precision, since_start = v_since_start,
      since_end = v_since_end, set_by = v_set_by, evidence_count = v_count, evidence = v_evidence, last_start = v_last_start, last_position = v_last_position
  where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium;
end $$;
