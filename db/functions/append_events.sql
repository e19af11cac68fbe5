-- The whole append: idempotency, locks, stream heads, expected versions, reference and retraction
-- checks, the events and what they define, then the read model, in one call whose cached plans are
-- reused (research/performance-anchors.md: round trips, not fsync, are the cost). A check that fails
-- calls ml_fail(), which aborts the statement, so nothing is stored. Errors are SQLSTATEs of class ML
-- with a JSON detail that src/store/event-store.ts turns into domain errors: MLIDK idempotency key
-- reused with another body, MLRET refused retraction, MLVER expected version mismatch, MLDUP thing
-- already defined, MLREF unknown reference. A requirement is met by a definition already stored or
-- by an earlier event of the same batch.
create or replace function append_events(p_items jsonb, p_actor text, p_idempotency_key text, p_request_hash text)
returns setof event language plpgsql
-- Plan once per session and keep the plan; never JIT-compile it: the estimates of the nested
-- checks are far above jit_above_cost, and compiling takes seconds for a sub-millisecond run.
set plan_cache_mode = force_generic_plan
set jit = off
-- Look-ups by key whatever the statistics said when the plan was made (db/functions.ts).
set enable_seqscan = off
as $$
declare
  v_recorded_at timestamptz;
begin
  -- Nothing is written before lock_projection: the transaction's first write gives it the id the
  -- feed orders by (xid8), and written before the locks, a later writer of the same stream or cell
  -- could take an earlier id than the one it waited for; the feed then showed a stream's versions,
  -- and a cell's status changes, out of the order they were written (until 2026-12-05, when the key's
  -- row came first; found by the probe of webhooks across instances). So a key is settled first by
  -- an advisory lock of its own, which writes nothing: a request with the same key waits here for
  -- the first to commit or roll back, then finds its row, and a replay (or a key reused with another
  -- body) is answered without taking, or waiting for, any stream's or cell's lock.
  if p_idempotency_key is not null then
    -- The projection lock before the key's, as lock_projection takes it first for every append: a
    -- migration or a rebuild's switch, which takes it exclusively, finds no replay under way either.
    perform pg_advisory_xact_lock_shared(hashtextextended('projection', 0));
    -- The actor's length first, so that no other actor and key spell the same name.
    perform pg_advisory_xact_lock(hashtextextended('idempotency/' || length(p_actor) || '/' || p_actor || '/' || p_idempotency_key, 0));
    return query select * from replay_idempotency_key(p_actor, p_idempotency_key, p_request_hash);
    if found then
      return;
    end if;
  end if;
  perform lock_projection(p_items);
  if p_idempotency_key is not null then
    insert into idempotency_key (actor, key, request_hash, event_ids)
    values (p_actor, p_idempotency_key, p_request_hash,
            array(select (e ->> 'id')::uuid from jsonb_array_elements(p_items) e order by (e ->> 'ordinal')::int))
    on conflict do nothing;
    -- Only a writer that took no key lock (an earlier release's, while an upgrade rolls out) can have
    -- written it meanwhile: answered as a replay would be.
    if not found then
      return query select * from replay_idempotency_key(p_actor, p_idempotency_key, p_request_hash);
      return;
    end if;
  end if;

  -- Seen by readers until this commits: no knownAt after a moment it names is settled before then
  -- (hold_recording_lock.sql). Taken before the moment is read, so that none is read unseen.
  perform hold_recording_lock(clock_timestamp());
  -- One moment per batch, read once the locks are held (lock_projection says why).
  v_recorded_at := clock_timestamp();

  -- The hot path: facts only (nothing defined, nothing retracted), so the checks reduce to
  -- versions and look-ups of stored references. This statement is a cut-down copy of the one
  -- below, and runs at about 1.5 times its speed (npm run bench).
  if not exists (select 1 from jsonb_array_elements(p_items) e
                 where e ->> 'retracts' is not null or jsonb_array_length(e -> 'defines') > 0) then
    return query
    with items as (
      select x.* from jsonb_to_recordset(p_items) as x(
        ordinal integer, id uuid, type text, schema_version integer, stream text, expected_version integer,
        occurred_value text, occurred_precision text, occurred_start timestamptz, occurred_end timestamptz,
        data jsonb, sources jsonb, metadata jsonb, program_id text, consortium_id text, milestone text, requires jsonb)
    ), counts as (
      select i.stream, count(*)::integer as n from items i group by i.stream
    ), heads as (
      insert into stream as s (name, version)
      select c.stream, c.n from counts c order by c.stream
      on conflict (name) do update set version = s.version + excluded.version
      returning s.name, s.version
    ), numbered as (
      select i.*, h.version - c.n + row_number() over (partition by i.stream order by i.ordinal) as stream_version,
             (select jsonb_build_object('ordinal', i.ordinal, 'kind', q.req ->> 'kind', 'key', q.req ->> 'key',
                       'reason', case when r.key is null then 'unknown'
                                      when q.req ->> 'enrolment' is null then 'consortium_required'
                                      when not g.enrolled then 'not_enrolled'
                                      else 'not_participant' end)
              from jsonb_array_elements(i.requires) with ordinality as q(req, k)
              -- LIMIT keeps this an index lookup per requirement: as a join, the generic plan hashed
              -- the whole reference table on every append, a cost that grew with the registries.
              left join lateral (select r.key, r.scope from reference r
                                 where r.kind = q.req ->> 'kind' and r.key = q.req ->> 'key' limit 1) r on true
              cross join lateral (
                select exists (select 1 from reference en where en.kind = 'enrolment' and en.key = q.req ->> 'enrolment') as enrolled,
                       exists (select 1 from reference p where p.kind = 'participant' and p.key = q.req ->> 'participant') as participant
              ) g
              where r.key is null
                 or (r.scope in ('consortium', 'participants') and q.req ->> 'wholeMilestone' is null
                     and (q.req ->> 'enrolment' is null or not g.enrolled or (r.scope = 'participants' and not g.participant)))
              order by q.k limit 1) as missing_reference
      from items i join heads h on h.name = i.stream join counts c on c.stream = i.stream
    ), written as (
      insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
                         occurred_start, occurred_end, recorded_at, data, sources, metadata, program_id, consortium_id, milestone)
      select n.id, n.type, n.schema_version, n.stream, n.stream_version, n.occurred_value, n.occurred_precision,
             n.occurred_start, n.occurred_end, v_recorded_at, n.data, coalesce(n.sources, '[]'), n.metadata,
             n.program_id, n.consortium_id, n.milestone
      from numbered n
      where case
        when n.expected_version is not null and n.expected_version <> n.stream_version - 1
          then ml_fail('MLVER', 'expected version mismatch', jsonb_build_object('ordinal', n.ordinal, 'stream', n.stream,
                 'expectedVersion', n.expected_version, 'currentVersion', n.stream_version - 1))
        when n.missing_reference is not null
          then ml_fail('MLREF', 'unknown reference', n.missing_reference)
        else true
      end
      order by n.ordinal
      returning *
    )
    select w.* from written w order by w.position;
    perform project_events(array(select (e ->> 'id')::uuid from jsonb_array_elements(p_items) e));
    return;
  end if;

  return query
  with items as (
    -- A retraction belongs to the stream and subject of the event it retracts.
    select x.ordinal, x.id, x.type, x.schema_version, coalesce(x.stream, t.stream) as stream, x.expected_version,
           x.occurred_value, x.occurred_precision, x.occurred_start, x.occurred_end, x.data, x.sources, x.metadata,
           coalesce(x.program_id, t.program_id) as program_id, coalesce(x.consortium_id, t.consortium_id) as consortium_id,
           coalesce(x.milestone, t.milestone) as milestone, x.retracts, x.requires, x.defines,
           t.type as target_type
    from jsonb_to_recordset(p_items) as x(
      ordinal integer, id uuid, type text, schema_version integer, stream text, expected_version integer,
      occurred_value text, occurred_precision text, occurred_start timestamptz, occurred_end timestamptz,
      data jsonb, sources jsonb, metadata jsonb, program_id text, consortium_id text, milestone text,
      retracts uuid, requires jsonb, defines jsonb)
    -- LIMIT keeps this a per-row index lookup: flattened, it may become a scan of the whole log.
    left join lateral (
      select e.stream, e.type, e.program_id, e.consortium_id, e.milestone,
             exists (select 1 from retraction r where r.event_id = e.id) as retracted
      from event e where e.id = x.retracts limit 1
    ) t on true
    where case
      when x.retracts is not null and (t.type is null or t.retracted or exists (
           -- Definitions are never retracted (SPEC §3), nor are retractions.
           select 1 from event_type_rule r where r.type = t.type and r.role in ('program', 'consortium', 'plan', 'enrolment', 'retraction')))
        then ml_fail('MLRET', 'retraction refused', jsonb_build_object('ordinal', x.ordinal, 'eventId', x.retracts,
               'targetType', t.type, 'alreadyRetracted', coalesce(t.retracted, false)))
      else true
    end
  ), counts as (
    select i.stream, count(*)::integer as n from items i group by i.stream
  ), heads as (
    -- Each stream head advances once, in name order so that concurrent batches lock alike.
    insert into stream as s (name, version)
    select c.stream, c.n from counts c order by c.stream
    on conflict (name) do update set version = s.version + excluded.version
    returning s.name, s.version
  ), numbered as (
    select i.*, h.version - c.n + row_number() over (partition by i.stream order by i.ordinal) as stream_version
    from items i join heads h on h.name = i.stream join counts c on c.stream = i.stream
  ), batch_definitions as (
    select i.ordinal, d ->> 'kind' as kind, d ->> 'key' as key, coalesce(d ->> 'scope', '') as scope
    from items i cross join lateral jsonb_array_elements(i.defines) d
  ), missing as materialized (
    -- The first unmet requirement of each event: '' scope means found and not a milestone.
    select n.*, (
      select jsonb_build_object('ordinal', n.ordinal, 'kind', q.req ->> 'kind', 'key', q.req ->> 'key',
               'reason', case when f.scope is null then 'unknown'
                              when q.req ->> 'enrolment' is null then 'consortium_required'
                              when not g.enrolled then 'not_enrolled'
                              else 'not_participant' end)
      from jsonb_array_elements(n.requires) with ordinality as q(req, k)
      cross join lateral (
        select coalesce(
          (select coalesce(r.scope, '') from reference r where r.kind = q.req ->> 'kind' and r.key = q.req ->> 'key'),
          (select b.scope from batch_definitions b
            where b.ordinal < n.ordinal and b.kind = q.req ->> 'kind' and b.key = q.req ->> 'key' limit 1)
        ) as scope
      ) f
      cross join lateral (
        select exists (select 1 from reference r where r.kind = 'enrolment' and r.key = q.req ->> 'enrolment')
               or exists (select 1 from batch_definitions b
                          where b.ordinal < n.ordinal and b.kind = 'enrolment' and b.key = q.req ->> 'enrolment') as enrolled,
               exists (select 1 from reference r where r.kind = 'participant' and r.key = q.req ->> 'participant')
               or exists (select 1 from batch_definitions b
                          where b.ordinal < n.ordinal and b.kind = 'participant' and b.key = q.req ->> 'participant') as participant
      ) g
      where f.scope is null
         or (f.scope in ('consortium', 'participants') and q.req ->> 'wholeMilestone' is null
             and (q.req ->> 'enrolment' is null or not g.enrolled or (f.scope = 'participants' and not g.participant)))
      order by q.k limit 1
    ) as missing_reference
    from numbered n
  ), verified as (
    select m.* from missing m
    where case
      when m.expected_version is not null and m.expected_version <> m.stream_version - 1
        then ml_fail('MLVER', 'expected version mismatch', jsonb_build_object('ordinal', m.ordinal, 'stream', m.stream,
               'expectedVersion', m.expected_version, 'currentVersion', m.stream_version - 1))
      when m.missing_reference is not null
        then ml_fail('MLREF', 'unknown reference', m.missing_reference)
      else true
    end
  ), written as (
    insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
                       occurred_start, occurred_end, recorded_at, data, sources, metadata, program_id, consortium_id, milestone)
    -- A retraction may give no occurredAt: it then occurred when it was recorded (SPEC §2), to the
    -- millisecond, as its value reads and as every other instant is: a world key that a JavaScript
    -- Date carries exactly, so that a page's cursor resumes where the page stopped.
    select v.id, v.type, v.schema_version, v.stream, v.stream_version,
           coalesce(v.occurred_value, to_char(v_recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
           coalesce(v.occurred_precision, 'instant'), coalesce(v.occurred_start, date_trunc('milliseconds', v_recorded_at)),
           coalesce(v.occurred_end, date_trunc('milliseconds', v_recorded_at)), v_recorded_at, v.data, coalesce(v.sources, '[]'), v.metadata,
           v.program_id, v.consortium_id, v.milestone
    from verified v order by v.ordinal
    returning *
  ), defined as (
    insert into reference (kind, key, scope, position)
    select b.kind, b.key, nullif(b.scope, ''), w.position
    from batch_definitions b join items i on i.ordinal = b.ordinal join written w on w.id = i.id
    order by w.position
    on conflict do nothing
    returning kind, key
  ), retracted as (
    insert into retraction (event_id, retracted_by)
    select i.retracts, i.id from items i join written w on w.id = i.id where i.retracts is not null
    on conflict do nothing
    returning event_id
  ), refused as (
    -- Defined twice (before, concurrently, or within the batch), or retracted concurrently.
    select ml_fail('MLDUP', 'already defined', jsonb_build_object('ordinal', b.ordinal, 'kind', b.kind, 'key', b.key))
    from batch_definitions b
    where not exists (select 1 from defined d where d.kind = b.kind and d.key = b.key)
       or exists (select 1 from batch_definitions o where o.kind = b.kind and o.key = b.key and o.ordinal < b.ordinal)
    union all
    select ml_fail('MLRET', 'retraction refused', jsonb_build_object('ordinal', i.ordinal, 'eventId', i.retracts,
             'targetType', i.target_type, 'alreadyRetracted', true))
    from items i
    where i.retracts is not null and (not exists (select 1 from retracted r where r.event_id = i.retracts)
                                      or exists (select 1 from items o where o.retracts = i.retracts and o.ordinal < i.ordinal))
  )
  select w.* from written w where not exists (select 1 from refused) order by w.position;
  perform project_events(array(select (e ->> 'id')::uuid from jsonb_array_elements(p_items) e));
end $$;
