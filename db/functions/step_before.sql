-- A cell's step believed now with the greatest world key before a key: the state, and the latest
-- evidence, a re-fold starts from (fold_cell.sql). Its own function so that it can plan without
-- bitmap scans: a generic plan guesses a cell holds a dozen steps, and for that chose a bitmap scan
-- of every current step before the key and a sort, so that a late fact in a cell whose current
-- steps' index still held the entries of 2,700 superseded versions read all of them
-- (test/store/read-model.test.ts). Off for the whole of fold_cell, the same setting made its read of
-- events by id a scan of the log. Columns as scalars, not the table's row type: a rebuild replaces
-- the table, and with it its row type.
create or replace function step_before(p_program text, p_milestone text, p_consortium text,
                                       p_before_start timestamptz, p_before_position bigint)
returns table (step_start timestamptz, step_position bigint, step_status text, step_since_value text,
               step_since_precision text, step_since_start timestamptz, step_since_end timestamptz,
               step_set_by uuid, step_evidence_count integer, step_evidence uuid[])
language plpgsql stable
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off set enable_bitmapscan = off as $$
begin
  return query
    select s.v_start, s.v_position, s.status, s.since_value, s.since_precision, s.since_start, s.since_end,
           s.set_by, s.evidence_count, s.evidence
    from cell_step s
    where s.program_id = p_program and s.milestone = p_milestone and s.consortium_id = p_consortium
      and s.known_to = 'infinity' and (s.v_start, s.v_position) < (p_before_start, p_before_position)
    order by s.v_start desc, s.v_position desc
    limit 1;
end $$;
