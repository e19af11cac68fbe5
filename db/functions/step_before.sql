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
           s.set_by, s.evidence_count,
           case
             -- A step written before steps kept their evidence (migration 2026-12-04T08-00-00): its
             -- evidence is the current evidential steps up to it. Only until the rebuild that migration
             -- asks for puts new tables in place; meanwhile instances of the previous release may
             -- still append. A fold never writes an empty list with a count above nought.
             when cardinality(s.evidence) = 0 and s.evidence_count > 0 then array(
               select x.event_id from cell_step x
               where x.program_id = s.program_id and x.milestone = s.milestone and x.consortium_id = s.consortium_id
                 and x.known_to = 'infinity' and x.evidential and (x.v_start, x.v_position) <= (s.v_start, s.v_position)
               order by x.v_start desc, x.v_position desc
               limit cell_evidence_limit())
             else s.evidence
           end
    from cell_step s
    where s.program_id = p_program and s.milestone = p_milestone and s.consortium_id = p_consortium
      and s.known_to = 'infinity' and (s.v_start, s.v_position) < (p_before_start, p_before_position)
    order by s.v_start desc, s.v_position desc
    limit 1;
end $$;
