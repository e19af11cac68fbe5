-- Raises one of the ML* errors from inside a statement, so that a check aborts it mid-way
-- (append_events.sql; the codes are src/store/append-error-codes.ts).
create or replace function ml_fail(p_code text, p_message text, p_detail jsonb) returns boolean language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
begin
  raise exception '%', p_message using errcode = p_code, detail = p_detail::text;
end $$;
