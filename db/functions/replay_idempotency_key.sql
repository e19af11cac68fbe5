-- The answer to a request whose Idempotency-Key was used before (append_events.sql): the events the
-- first request stored, in the order it stored them, or MLIDK when this request's body differs.
-- Nothing when the key is not stored.
create or replace function replay_idempotency_key(p_actor text, p_idempotency_key text, p_request_hash text)
returns setof event language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_prior idempotency_key;
begin
  select * into v_prior from idempotency_key k where k.actor = p_actor and k.key = p_idempotency_key;
  if not found then
    return;
  end if;
  if v_prior.request_hash <> p_request_hash then
    perform ml_fail('MLIDK', 'idempotency key reused with a different request', '{}');
  end if;
  return query select e.* from event e where e.id = any (v_prior.event_ids) order by e.position;
end $$;
