import { sql, type Kysely } from 'kysely';

/*
 * A step of a cell's timeline (one event's place in it) exists, as believed, from the moment its
 * first version was written until a retraction removes it: a late event or a retraction before it
 * supersedes its version and writes the next at the same moment (fold_cell.sql), so its versions
 * follow one another without a gap. cell_step_span keeps that interval, one row a step however
 * many versions late news wrote of it; cell_step_versions orders a step's versions by when each
 * was written, under its event and cell, the event first: the folds' searches of a cell's current
 * steps (supersede_steps.sql, step_before.sql), which name no event, then cannot take it for an
 * index range. Keyed by the cell and the world key, the planner, which expects about one row a cell
 * whatever the cell, took it for them and walked every superseded version of the cell
 * (test/store/read-model.test.ts, "re-folds after a late fact by reading the steps believed now");
 * keyed by the cell and the event, it could still take it for a scan of the cell's versions. Below the newest step believed at K, a read at asOf and knownAt then takes the
 * latest step that existed at K (passing over only steps recorded after K or retracted by then),
 * and that step's version written last before K: two probes, where the search these replace took
 * four (the latest current step written before K, the latest current step below the bound, the
 * superseded versions above it, and those at its instant; src/store/cell-states.ts, stateAt). The
 * two indexes that search read go with it. Filled from the steps: a step began when its first
 * version was written and ended when its last was superseded ('infinity' while one is current).
 * The rebuild copies the table's settings, as those of cell_step (2026-12-02T03-00-00).
 *
 * While it is deployed: an instance of the previous release still running searches as before,
 * without the two indexes, more slowly, until it stops; and a rebuild of the previous release under
 * way fails (its schema has no cell_step_span, so the functions applied after this migration write
 * the live table's, and the first span they add meets its primary key) and must be run again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table cell_step_span (
      program_id text not null,
      milestone text not null,
      consortium_id text not null,
      v_start timestamptz not null,
      v_position bigint not null,
      event_id uuid not null,
      born timestamptz not null,
      died timestamptz not null default 'infinity',
      primary key (program_id, milestone, consortium_id, v_start, v_position) include (event_id, born, died)
    )`.execute(db);
  await sql`alter table cell_step_span set (autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_scale_factor = 0.02)`.execute(db);
  await sql`
    insert into cell_step_span (program_id, milestone, consortium_id, v_start, v_position, event_id, born, died)
    select program_id, milestone, consortium_id, v_start, v_position, event_id, min(known_from), max(known_to)
    from cell_step group by program_id, milestone, consortium_id, v_start, v_position, event_id`.execute(db);
  await sql`
    create index cell_step_versions on cell_step (event_id, program_id, milestone, consortium_id, known_from)
    include (known_to)`.execute(db);
  await sql`drop index cell_step_superseded`.execute(db);
  await sql`drop index cell_step_current_written`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index cell_step_current_written on cell_step (program_id, milestone, consortium_id, known_from, v_start, v_position)
    where known_to = 'infinity'`.execute(db);
  await sql`
    create index cell_step_superseded on cell_step (program_id, milestone, consortium_id, v_start, v_position)
    include (known_from, known_to, event_id, evidential) where known_to <> 'infinity'`.execute(db);
  await sql`drop index cell_step_versions`.execute(db);
  await sql`drop table cell_step_span`.execute(db);
}
