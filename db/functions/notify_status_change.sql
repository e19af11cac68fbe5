-- A cell whose status changes is a notification, whatever changed it: a new fact, a late backfill,
-- a retraction, an elimination. Its cause is the event that set the new status when this
-- transaction recorded it; else the event of this transaction that bears most closely on the cell
-- (its milestone, then its consortium; a retraction carries its target's subject), the latest
-- first. A rebuild records no event and so notifies nothing: it recomputes history, it does not
-- change it.
--
-- The data is version 2 of the message (schemaVersion says so; version 1 had ids only): it names
-- the program, milestone and consortium from the registries, so a subscriber needs no second call,
-- and says since when and how surely. `certain` is judged at the recording moment, the cause's
-- recordedAt, by the rule of the views (SPEC §2.1): the event that set the status has certainly
-- happened once its interval has ended. Built here, in the append transaction, so it is committed
-- exactly once with the events.
create or replace function notify_status_change() returns trigger language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  v_from text := case when tg_op = 'INSERT' then 'planned' else old.status end;
  v_cause uuid;
  v_recorded_at timestamptz;
begin
  if v_from = new.status then
    return null;
  end if;
  -- Usually the event that set the status is this transaction's: one look-up by its id.
  select e.id, e.recorded_at into v_cause, v_recorded_at from event e
  where e.id = new.set_by and e.tx = pg_current_xact_id() and e.program_id = new.program_id;
  if v_cause is null then
    -- Else (a retraction, an elimination) the transaction's own events, found by their transaction
    -- alone (event_tx_position; offset 0 keeps the program's condition out of that scan), at most a
    -- batch: given the program as well, the generic plan ANDed in the program's index, every event
    -- the program ever had (115 buffers and 2.6 ms a change on a busy program of a 1M history).
    select e.id, e.recorded_at into v_cause, v_recorded_at
    from (select x.* from event x where x.tx = pg_current_xact_id() offset 0) e
    where e.program_id = new.program_id
    -- The milestone before the consortium: a program-scope cell's own fact may name a consortium,
    -- and a transaction may hold other appends' facts about other milestones (store/append-combiner.ts).
    order by (e.milestone is not distinct from new.milestone) desc,
             (coalesce(e.consortium_id, '') = new.consortium_id) desc, e.position desc
    limit 1;
  end if;
  if v_cause is null then
    return null;
  end if;
  -- Stamped with its cause's recording moment, read once the append's locks were held: the column's
  -- default, the statement's start, came before any wait for them, and a subscriber asking a view
  -- known at the message's timestamp did not find the change it was told of (the probe of dates).
  insert into notification (id, topic, program_id, consortium_id, created_at, data)
  values (uuid_v7(), 'milestone.status_changed', new.program_id, nullif(new.consortium_id, ''), v_recorded_at,
          jsonb_strip_nulls(jsonb_build_object(
            'schemaVersion', 2,
            'programId', new.program_id,
            'programName', (select p.data ->> 'name' from program_entry p where p.program_id = new.program_id),
            'milestone', new.milestone,
            'milestoneTitle', (select m.data ->> 'title' from milestone_entry m
                               where m.program_id = new.program_id and m.milestone = new.milestone),
            'consortiumId', nullif(new.consortium_id, ''),
            'consortiumName', (select c.data ->> 'name' from consortium_entry c where c.consortium_id = new.consortium_id),
            'from', v_from, 'to', new.status,
            -- As the API writes instants (Date.toISOString), whatever the session's time zone.
            'since', jsonb_build_object(
              'value', new.since_value, 'precision', new.since_precision,
              'start', to_char(new.since_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'end', to_char(new.since_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
            'certain', new.since_end <= v_recorded_at,
            'causedBy', v_cause)));
  return null;
end $$;
