-- Ends the belief, from p_known, in a cell's current steps from a world key on, and returns their
-- events: what a late event or a retraction re-folds (fold_cell.sql). Its own function so that it
-- can plan without bitmap scans. The current steps' index keeps an entry for each step superseded
-- since the last vacuum (cell_step is vacuumed after 2 % of its rows change), and a bitmap scan
-- fetches the row of every such entry from the key on, each time; a plain index scan marks the entries
-- of rows dead to all as it passes them, so that the next re-fold of the cell skips them: each is
-- visited once, whatever the cell's history of late news (test/store/read-model.test.ts).
create or replace function supersede_steps(p_program text, p_milestone text, p_consortium text,
                                           p_from_start timestamptz, p_from_position bigint, p_known timestamptz)
returns uuid[] language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off set enable_bitmapscan = off as $$
declare
  v_superseded uuid[];
  v_found integer;
begin
  -- In the current steps' order, which cell_step_current gives as it is: so the planner takes it,
  -- and not cell_step_written, which holds every version of the cell (superseded ones too) and tied
  -- with it in a generic plan's estimates on tables without statistics (a review reproduced the tie;
  -- with statistics it took cell_step_current; the ordered form takes it either way). With
  -- cell_step_written each re-fold read every version the cell ever had, and marked nothing dead in
  -- cell_step_current, whose superseded entries a later plan then read (test "re-folds after a late
  -- fact by reading the steps believed now", found on 2026-12-06).
  -- The rows are found first and then updated by ctid: a row another transaction changed meanwhile
  -- would be skipped, not updated in its new version, as a plain UPDATE's re-check would. None can:
  -- appends change a cell's steps holding its lock (lock_projection.sql), and the rebuild's workers
  -- fold cells apart. Should one ever, the count below says so, and the append is rolled back as
  -- a serialization failure, to be tried again, rather than leave two current versions of a step.
  with found as materialized (
    select c.ctid from cell_step c
    where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium
      and c.known_to = 'infinity' and (c.v_start, c.v_position) >= (p_from_start, p_from_position)
    order by c.v_start, c.v_position
  ), superseded as (
    update cell_step s set known_to = p_known
    from found k
    where s.ctid = k.ctid
    returning s.event_id
  )
  select coalesce(array_agg(x.event_id), '{}'), (select count(*) from found) into v_superseded, v_found from superseded x;
  if cardinality(v_superseded) <> v_found then
    raise exception 'cell %/%/% changed while its steps were superseded: % found, % superseded', p_program, p_milestone, p_consortium, v_found, cardinality(v_superseded)
      using errcode = 'serialization_failure';
  end if;
  return v_superseded;
end $$;
