-- Takes, before an append writes anything, the locks that keep the read model and the feed consistent:
--   * shared on the projection as a whole, which a rebuild takes exclusively to switch tables;
--   * per program touched by a definition (plan, reschedule, enrolment, elimination, or the
--     retraction of one), exclusive: these change which cells exist or touch every cell of a
--     milestone or consortium; per program touched only by facts, shared;
--   * per cell a fact (or the retraction of one) bears on, exclusive: one writer at a time per cell;
--   * per stream an event goes to (a retraction: its target's), exclusive: the transaction's first
--     write, after these, gives it the id the feed orders by, so one stream's writers get their ids in
--     the order they write its versions (the stream's row, locked at its upsert, would order them only
--     after some had their ids already).
-- Programs, then cells, then streams, each in code-point order, so two writers never wait on each
-- other in a cycle. Streams last: an append waiting for a program (a plan being recorded) holds no
-- stream meanwhile, so a consortium's facts in other programs do not wait with it. The append's recorded_at is read after this, so that within a cell the order of
-- recording is the order in which the timeline was written (fold_cell versions rows by it).
create or replace function lock_projection(p_items jsonb) returns void language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  r record;
begin
  perform pg_advisory_xact_lock_shared(hashtextextended('projection', 0));
  for r in
    with item as (
      select coalesce(t.program_id, x.program_id) as program_id, coalesce(t.milestone, x.milestone) as milestone,
             coalesce(t.consortium_id, x.consortium_id) as consortium_id, coalesce(tr.role, ir.role) as role,
             coalesce(x.stream, t.stream) as stream
      from jsonb_to_recordset(p_items) as x(type text, stream text, program_id text, milestone text, consortium_id text, retracts uuid)
      join event_type_rule ir on ir.type = x.type
      left join lateral (select e.type, e.stream, e.program_id, e.milestone, e.consortium_id from event e where e.id = x.retracts limit 1) t on true
      left join event_type_rule tr on tr.type = t.type
    ), lock as (
      select 1 as kind, i.program_id as subject, '' as milestone, '' as consortium_id,
             bool_or(i.role in ('plan', 'reschedule', 'enrolment', 'elimination')) as exclusive
      from item i
      where i.program_id is not null and (i.milestone is not null or i.role <> 'fact')
      group by i.program_id
      union all
      select distinct 2, i.program_id, i.milestone, c.consortium_id, true
      from item i cross join lateral (values (''), (coalesce(i.consortium_id, ''))) as c(consortium_id)
      where i.role = 'fact' and i.program_id is not null and i.milestone is not null
      union all
      -- A stream's name in the subject column, where the other kinds have their program.
      select distinct 3, i.stream, '', '', true
      from item i
      where i.stream is not null
    )
    select l.kind, l.subject, l.milestone, l.consortium_id, l.exclusive from lock l
    order by l.kind, l.subject collate "C", l.milestone collate "C", l.consortium_id collate "C"
  loop
    if r.kind = 3 then
      perform pg_advisory_xact_lock(hashtextextended('stream/' || r.subject, 0));
    elsif r.kind = 1 and r.exclusive then
      perform pg_advisory_xact_lock(hashtextextended('program/' || r.subject, 0));
    elsif r.kind = 1 then
      perform pg_advisory_xact_lock_shared(hashtextextended('program/' || r.subject, 0));
    else
      perform pg_advisory_xact_lock(hashtextextended('cell/' || r.subject || '/' || r.milestone || '/' || r.consortium_id, 0));
    end if;
  end loop;
end $$;
