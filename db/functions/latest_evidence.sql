-- A cell's latest evidence before a world key, as believed now, newest first: at most
-- cell_evidence_limit() ids, read down the current steps' index from the key, whatever the cell's
-- size. Its own function so that it can plan without bitmap scans: a generic plan guesses a cell
-- holds a dozen steps, and for that chose a bitmap scan of every current step before the key and a
-- sort, so that a late fact in a cell of 500 steps read all 500 (test/store/read-model.test.ts).
-- Off for the whole of fold_cell, the same setting made its read of events by id a scan of the log.
create or replace function latest_evidence(p_program text, p_milestone text, p_consortium text,
                                           p_before_start timestamptz, p_before_position bigint)
returns uuid[] language plpgsql stable
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off set enable_bitmapscan = off as $$
begin
  return array(
    select s.event_id from cell_step s
    where s.program_id = p_program and s.milestone = p_milestone and s.consortium_id = p_consortium
      and s.known_to = 'infinity' and (s.v_start, s.v_position) < (p_before_start, p_before_position) and s.evidential
    order by s.v_start desc, s.v_position desc
    limit cell_evidence_limit());
end $$;
