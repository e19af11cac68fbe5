import { sql, type Kysely } from 'kysely';

/*
 * The read model of SPEC §9: every view answers from it with index look-ups, at any (asOf, knownAt).
 *
 * - Registries of what exists (programs, consortiums, milestones, enrolments) and of the retractable
 *   changes to them (reschedules, eliminations). Definitions are never retracted, so a definition is
 *   in force at (V, K) when it occurred by V and was recorded by K.
 * - cell_step: each milestone cell's status timeline, one row per event that bears on the cell,
 *   holding the cell's state once that event is folded in (world time runs along v_start, v_position).
 *   Each row is versioned in system time, as XTDB does: it is believed from known_from until
 *   known_to, when a late event or a retraction before it made the projection fold that part of the
 *   timeline anew. The state at (V, K) is the row believed at K with the greatest world key ≤ V.
 * - milestone_cell keeps each cell's current state, for notifications and the current views.
 *
 * What fills them is procedural SQL kept one function a file in db/functions, applied after the
 * migrations (db/functions.ts); the status rule itself comes from the catalogue as data
 * (event_type_rule, status_transition), written at every migration run (db/catalogue-rules.ts).
 * The cells are emptied here and rebuilt from the log after the migrations (db/migrator.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop function refresh_touched_cells(jsonb)`.execute(db);
  // A milestone planned for some consortiums only (milestone.planned v2) is defined with scope
  // 'participants', and each consortium it concerns as a 'participant' ('c@p/m'), so that a fact
  // about another consortium is refused like any unknown reference.
  await sql`alter table reference drop constraint reference_kind_check`.execute(db);
  await sql`alter table reference add constraint reference_kind_check
    check (kind in ('program', 'consortium', 'milestone', 'enrolment', 'participant'))`.execute(db);
  await sql`alter table reference drop constraint reference_scope_check`.execute(db);
  await sql`alter table reference add constraint reference_scope_check check (scope in ('program', 'consortium', 'participants'))`.execute(db);
  await sql`drop function refresh_milestone_cell(text, text, text, uuid[])`.execute(db);
  await sql`drop function touched_milestone_cells(uuid[])`.execute(db);

  await sql`
    create table event_type_rule (
      type text primary key,
      role text not null check (role in ('program', 'consortium', 'plan', 'reschedule', 'enrolment', 'elimination', 'fact', 'retraction'))
    )`.execute(db);
  await sql`
    create table status_transition (
      type text not null,
      from_status text not null,
      to_status text not null,
      primary key (type, from_status)
    )`.execute(db);

  // The defining event's data is kept as recorded; readers parse it with the catalogue's schema.
  const occurred = sql`
      schema_version integer not null,
      data jsonb not null,
      occurred_value text not null,
      occurred_precision text not null,
      occurred_start timestamptz not null,
      occurred_end timestamptz not null,
      recorded_at timestamptz not null,
      position bigint not null,
      event_id uuid not null`;
  await sql`
    create table program_entry (
      program_id text primary key,
      ${occurred}
    )`.execute(db);
  await sql`
    create table consortium_entry (
      consortium_id text primary key,
      ${occurred}
    )`.execute(db);
  await sql`
    create table milestone_entry (
      program_id text not null,
      milestone text not null,
      scope text not null check (scope in ('program', 'consortium')),
      -- The consortiums a consortium-scope milestone concerns (milestone.planned v2); null: all enrolled.
      participants text[],
      ${occurred},
      primary key (program_id, milestone)
    )`.execute(db);
  await sql`
    create table enrolment_entry (
      program_id text not null,
      consortium_id text not null,
      ${occurred},
      primary key (program_id, consortium_id)
    )`.execute(db);
  await sql`create index enrolment_entry_consortium on enrolment_entry (consortium_id, program_id)`.execute(db);

  // A change is in force from its world instant, for as long as it was recorded and not yet retracted.
  await sql`
    create table milestone_reschedule (
      event_id uuid primary key,
      program_id text not null,
      milestone text not null,
      schema_version integer not null,
      data jsonb not null,
      occurred_start timestamptz not null,
      position bigint not null,
      recorded_at timestamptz not null,
      retracted_at timestamptz not null default 'infinity'
    )`.execute(db);
  await sql`create index milestone_reschedule_world on milestone_reschedule (program_id, milestone, occurred_start, position)`.execute(db);
  await sql`
    create table enrolment_elimination (
      event_id uuid primary key,
      program_id text not null,
      consortium_id text not null,
      occurred_value text not null,
      occurred_precision text not null,
      occurred_start timestamptz not null,
      occurred_end timestamptz not null,
      position bigint not null,
      recorded_at timestamptz not null,
      retracted_at timestamptz not null default 'infinity'
    )`.execute(db);
  await sql`create index enrolment_elimination_cell on enrolment_elimination (program_id, consortium_id, position)`.execute(db);

  await sql`
    create table cell_step (
      program_id text not null,
      milestone text not null,
      consortium_id text not null,
      v_start timestamptz not null,
      v_position bigint not null,
      event_id uuid not null,
      known_from timestamptz not null,
      known_to timestamptz not null default 'infinity',
      status text not null,
      since_value text not null,
      since_precision text not null,
      since_start timestamptz not null,
      since_end timestamptz not null,
      set_by uuid not null,
      -- Whether the event is evidence of the cell's status: definitions (plan, enrolment) are not.
      evidential boolean not null,
      evidence_count integer not null
    )`.execute(db);
  // The timeline believed now, and every version for system-time cut-offs.
  await sql`
    create index cell_step_current on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    where known_to = 'infinity'`.execute(db);
  await sql`
    create index cell_step_versions on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (known_from, known_to)`.execute(db);
  // The step written last by a moment, from which a knownAt read scans down (src/store/read-model.ts).
  await sql`
    create index cell_step_written on cell_step (program_id, milestone, consortium_id, known_from, v_start, v_position)
    include (known_to)`.execute(db);

  // Set here, cleared by the rebuild's switch (src/store/read-model-rebuild.ts until 2026-12-03, now src/store/rebuild-tables.ts): the migrator rebuilds
  // the read model from the log while it is set, even if an append came first.
  await sql`
    create table read_model_status (
      singleton boolean primary key default true check (singleton),
      rebuild_pending boolean not null
    )`.execute(db);
  await sql`insert into read_model_status (rebuild_pending) values (true)`.execute(db);

  await sql`truncate milestone_cell`.execute(db);
  await sql`
    alter table milestone_cell
      drop column evidence,
      drop column due_value,
      add column set_by uuid not null,
      add column evidence_count integer not null,
      -- From when, in world time and in system time, the cell exists: its milestone planned and,
      -- for consortium scope, the consortium enrolled.
      add column exists_start timestamptz not null,
      add column exists_recorded timestamptz not null`.execute(db);

  // Timelines read a program's or a consortium's events in world-time order, a page at a time.
  await sql`drop index event_program, event_consortium, event_program_milestone, event_consortium_program`.execute(db);
  await sql`create index event_program_world on event (program_id, occurred_start, position) where program_id is not null`.execute(db);
  await sql`create index event_consortium_world on event (consortium_id, occurred_start, position) where consortium_id is not null`.execute(db);
  await sql`create index event_world on event (occurred_start, position)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the bitemporal read model cannot be migrated down: restore a backup instead');
}
