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
begin
  with superseded as (
    update cell_step s set known_to = p_known
    from (
      -- In the current steps' order, which cell_step_current gives as it is: so the planner takes
      -- it, and not cell_step_written, which holds every version of the cell (superseded ones too)
      -- and ties with it in a generic plan's estimates. On tables not yet analyzed the generic plan
      -- took cell_step_written: each re-fold then read every version the cell ever had, and marked
      -- nothing dead in cell_step_current, whose every superseded entry the next plan then read
      -- (test "re-folds after a late fact by reading the steps believed now", found on 2026-12-06).
      select c.ctid from cell_step c
      where c.program_id = p_program and c.milestone = p_milestone and c.consortium_id = p_consortium
        and c.known_to = 'infinity' and (c.v_start, c.v_position) >= (p_from_start, p_from_position)
      order by c.v_start, c.v_position
    ) k
    where s.ctid = k.ctid
    returning s.event_id
  )
  select coalesce(array_agg(x.event_id), '{}') into v_superseded from superseded x;
  return v_superseded;
end $$;
