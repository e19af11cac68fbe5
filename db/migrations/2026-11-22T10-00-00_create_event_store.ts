import { sql, type Kysely } from 'kysely';

/*
 * The event log, its stream heads, the registry of defined things that appends are checked against,
 * retractions and idempotency keys.
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
      -- The start of the client's statement: one batch, one moment, so a knownAt cut never splits it.
      recorded_at timestamptz not null default statement_timestamp(),
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
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table idempotency_key, retraction, reference, stream, event`.execute(db);
  await sql`drop function refuse_event_change()`.execute(db);
}
