import { sql, type Kysely } from 'kysely';

/*
 * The event log, its stream heads, the registry of defined things that appends are checked against,
 * and append_events(): the whole append as one function call, so that an append is one round trip
 * whatever the batch size (research/performance-anchors.md: round trips, not fsync, are the cost).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event (
      position bigint generated always as identity primary key,
      id uuid not null unique,
      type text not null,
      schema_version integer not null,
      stream text not null,
      stream_version integer not null check (stream_version >= 1),
      occurred_value text not null,
      occurred_precision text not null
        check (occurred_precision in ('year', 'half', 'quarter', 'month', 'day', 'instant')),
      occurred_start timestamptz not null,
      occurred_end timestamptz not null check (occurred_end >= occurred_start),
      recorded_at timestamptz not null default clock_timestamp(),
      data jsonb not null,
      sources jsonb not null default '[]',
      metadata jsonb not null,
      program_id text,
      consortium_id text,
      milestone text,
      -- The writer's transaction id: readers of the global feed only take rows whose transaction
      -- is older than every running one, so a slow writer's event is never skipped (T1 in
      -- research/event-stores.md §4).
      tx xid8 not null default pg_current_xact_id(),
      unique (stream, stream_version)
    )`.execute(db);
  await sql`create index event_tx_position on event (tx, position)`.execute(db);
  await sql`create index event_program on event (program_id, position) where program_id is not null`.execute(db);
  await sql`create index event_consortium on event (consortium_id, position) where consortium_id is not null`.execute(db);
  await sql`create index event_type on event (type, position)`.execute(db);

  // Append-only, enforced by the database itself and not merely by the absence of code.
  await sql`
    create function refuse_event_change() returns trigger language plpgsql as $$
    begin
      raise exception 'events are immutable: % on event is not allowed', tg_op
        using errcode = 'MLIMM', hint = 'record an event.retracted event instead';
    end $$`.execute(db);
  await sql`
    create trigger event_is_append_only before update or delete on event
    for each row execute function refuse_event_change()`.execute(db);
  await sql`
    create trigger event_is_not_truncated before truncate on event
    for each statement execute function refuse_event_change()`.execute(db);

  await sql`create table stream (name text primary key, version integer not null)`.execute(db);

  // What exists, and from which event on: programs, consortiums, milestones, enrolments.
  await sql`
    create table reference (
      kind text not null check (kind in ('program', 'consortium', 'milestone', 'enrolment')),
      key text not null,
      scope text check (scope in ('program', 'consortium')),
      position bigint not null,
      primary key (kind, key)
    )`.execute(db);

  await sql`
    create table retraction (
      event_id uuid primary key,
      retracted_by uuid not null
    )`.execute(db);

  await sql`
    create table idempotency_key (
      actor text not null,
      key text not null,
      request_hash text not null,
      event_ids uuid[] not null,
      created_at timestamptz not null default now(),
      primary key (actor, key)
    )`.execute(db);

  await sql`
    create type append_item as (
      ordinal integer,
      id uuid,
      type text,
      schema_version integer,
      stream text,
      expected_version integer,
      occurred_value text,
      occurred_precision text,
      occurred_start timestamptz,
      occurred_end timestamptz,
      data jsonb,
      sources jsonb,
      metadata jsonb,
      program_id text,
      consortium_id text,
      milestone text,
      retracts uuid,
      requires jsonb,
      defines jsonb
    )`.execute(db);

  /*
   * Errors are raised with SQLSTATEs of class ML and a JSON detail that the store turns into
   * domain errors: MLIDK idempotency key reused with another body, MLRET refused retraction,
   * MLVER expected version mismatch, MLDUP thing already defined, MLREF unknown reference.
   * Every check is one set-based statement over the whole batch, so a batch of 1000 costs about
   * what one event costs.
   */
  await sql`
    create function append_events(p_items jsonb, p_actor text, p_idempotency_key text, p_request_hash text)
    returns setof event language plpgsql as $$
    declare
      v_items append_item[];
      v_prior idempotency_key;
      v_bad record;
      v_count integer;
    begin
      v_items := array(select x from jsonb_populate_recordset(null::append_item, p_items) x order by x.ordinal);

      if p_idempotency_key is not null then
        -- A concurrent request with the same key waits here until the first one commits or rolls back.
        insert into idempotency_key (actor, key, request_hash, event_ids)
        values (p_actor, p_idempotency_key, p_request_hash, array(select i.id from unnest(v_items) i order by i.ordinal))
        on conflict do nothing;
        if not found then
          select * into v_prior from idempotency_key k where k.actor = p_actor and k.key = p_idempotency_key;
          if v_prior.request_hash <> p_request_hash then
            raise exception 'idempotency key reused with a different request' using errcode = 'MLIDK';
          end if;
          return query select e.* from event e where e.id = any (v_prior.event_ids) order by e.position;
          return;
        end if;
      end if;

      -- A retraction belongs to the stream (and subject) of the event it retracts.
      if exists (select 1 from unnest(v_items) i where i.retracts is not null) then
        select i.ordinal, i.retracts, t.type, (r.event_id is not null) as already into v_bad
        from unnest(v_items) i
        left join event t on t.id = i.retracts
        left join retraction r on r.event_id = i.retracts
        where i.retracts is not null
          and (t.id is null or r.event_id is not null or t.type in
               ('program.registered', 'consortium.registered', 'milestone.planned', 'consortium.enrolled', 'event.retracted'))
        order by i.ordinal limit 1;
        if found then
          raise exception 'retraction refused' using errcode = 'MLRET', detail = json_build_object(
            'ordinal', v_bad.ordinal, 'eventId', v_bad.retracts, 'targetType', v_bad.type, 'alreadyRetracted', v_bad.already);
        end if;
        v_items := array(
          select row(i.ordinal, i.id, i.type, i.schema_version, coalesce(i.stream, t.stream), i.expected_version,
                     i.occurred_value, i.occurred_precision, i.occurred_start, i.occurred_end, i.data, i.sources,
                     i.metadata, coalesce(i.program_id, t.program_id), coalesce(i.consortium_id, t.consortium_id),
                     coalesce(i.milestone, t.milestone), i.retracts, i.requires, i.defines)::append_item
          from unnest(v_items) i left join event t on t.id = i.retracts
          order by i.ordinal);
      end if;

      -- Advance every stream head once, in name order so that concurrent batches lock alike.
      with counts as (
        select i.stream, count(*)::integer as n from unnest(v_items) i group by i.stream
      ), heads as (
        insert into stream as s (name, version)
        select c.stream, c.n from counts c order by c.stream
        on conflict (name) do update set version = s.version + excluded.version
        returning s.name, s.version
      ), numbered as (
        select i.ordinal, i.stream, i.expected_version,
               h.version - c.n as head_before,
               h.version - c.n + row_number() over (partition by i.stream order by i.ordinal) as stream_version
        from unnest(v_items) i join heads h on h.name = i.stream join counts c on c.stream = i.stream
      ), written as (
        insert into event (id, type, schema_version, stream, stream_version, occurred_value, occurred_precision,
                           occurred_start, occurred_end, data, sources, metadata, program_id, consortium_id, milestone)
        select i.id, i.type, i.schema_version, i.stream, n.stream_version, i.occurred_value, i.occurred_precision,
               i.occurred_start, i.occurred_end, i.data, coalesce(i.sources, '[]'), i.metadata,
               i.program_id, i.consortium_id, i.milestone
        from unnest(v_items) i join numbered n on n.ordinal = i.ordinal
        order by i.ordinal
      )
      -- The data-modifying CTEs above run to completion whether or not this select reads them.
      select n.ordinal, n.stream, n.expected_version, n.head_before
      into v_bad
      from numbered n
      where n.expected_version is not null and n.expected_version <> n.stream_version - 1
      order by n.ordinal limit 1;
      if found then
        raise exception 'expected version mismatch' using errcode = 'MLVER', detail = json_build_object(
          'ordinal', v_bad.ordinal, 'stream', v_bad.stream, 'expectedVersion', v_bad.expected_version,
          'currentVersion', v_bad.head_before);
      end if;

      if exists (select 1 from unnest(v_items) i where jsonb_array_length(i.defines) > 0) then
        insert into reference (kind, key, scope, position)
        select d ->> 'kind', d ->> 'key', d ->> 'scope', e.position
        from unnest(v_items) i join event e on e.id = i.id cross join lateral jsonb_array_elements(i.defines) d
        order by e.position
        on conflict do nothing;
        select i.ordinal, d ->> 'kind' as kind, d ->> 'key' as key into v_bad
        from unnest(v_items) i join event e on e.id = i.id cross join lateral jsonb_array_elements(i.defines) d
        join reference r on r.kind = d ->> 'kind' and r.key = d ->> 'key'
        where r.position <> e.position
        order by i.ordinal limit 1;
        if found then
          raise exception 'already defined' using errcode = 'MLDUP', detail = json_build_object(
            'ordinal', v_bad.ordinal, 'kind', v_bad.kind, 'key', v_bad.key);
        end if;
      end if;

      if exists (select 1 from unnest(v_items) i where jsonb_array_length(i.requires) > 0) then
        select i.ordinal, q.req ->> 'kind' as kind, q.req ->> 'key' as key,
               case when r.key is null then 'unknown' when q.req ->> 'enrolment' is null then 'consortium_required'
                    else 'not_enrolled' end as reason
        into v_bad
        from unnest(v_items) i join event e on e.id = i.id cross join lateral jsonb_array_elements(i.requires) with ordinality as q(req, n)
        left join reference r on r.kind = q.req ->> 'kind' and r.key = q.req ->> 'key' and r.position < e.position
        left join reference en on en.kind = 'enrolment' and en.key = q.req ->> 'enrolment' and en.position < e.position
        where r.key is null or (r.scope = 'consortium' and en.key is null)
        order by i.ordinal, q.n limit 1;
        if found then
          raise exception 'unknown reference' using errcode = 'MLREF', detail = json_build_object(
            'ordinal', v_bad.ordinal, 'kind', v_bad.kind, 'key', v_bad.key, 'reason', v_bad.reason);
        end if;
      end if;

      if exists (select 1 from unnest(v_items) i where i.retracts is not null) then
        insert into retraction (event_id, retracted_by)
        select i.retracts, i.id from unnest(v_items) i where i.retracts is not null order by i.ordinal
        on conflict do nothing;
        get diagnostics v_count = row_count;
        if v_count <> (select count(*) from unnest(v_items) i where i.retracts is not null) then
          raise exception 'retraction refused' using errcode = 'MLRET', detail = json_build_object(
            'ordinal', null, 'eventId', null, 'targetType', null, 'alreadyRetracted', true);
        end if;
      end if;

      return query select e.* from event e join unnest(v_items) i on i.id = e.id order by e.position;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function append_events(jsonb, text, text, text)`.execute(db);
  await sql`drop type append_item`.execute(db);
  await sql`drop table idempotency_key, retraction, reference, stream, event`.execute(db);
  await sql`drop function refuse_event_change()`.execute(db);
}
