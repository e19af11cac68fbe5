import { sql, type Kysely } from 'kysely';

/*
 * A cell's evidence as a relation of its own: one row per evidential event that bears on the cell,
 * written once when the event is folded in, and marked when a retraction takes it back. Whether an
 * event is evidence at (V, K) does not depend on the fold: it occurred before V, was recorded before
 * K and was not retracted by K (SPEC §4). So a cut-off read of evidence walks these rows, one per
 * event, instead of cell_step's versions, which a late event writes again for every later step of
 * its cell: at 1M events a busy cell held about 4.6 versions per step, all of which such a read
 * passed over. Later news does not rewrite them (a retraction marks one row), so their pages
 * mostly stay all-visible and the read can be index-only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table cell_evidence (
      program_id text not null,
      milestone text not null,
      consortium_id text not null,
      v_start timestamptz not null,
      v_position bigint not null,
      event_id uuid not null,
      recorded_at timestamptz not null,
      retracted_at timestamptz not null default 'infinity',
      primary key (program_id, milestone, consortium_id, v_start, v_position) include (event_id, recorded_at, retracted_at)
    )`.execute(db);
  // The evidence in force now, for the reads without knownAt (current, asOf): they pass over no
  // retracted entry, however many a cell has had.
  await sql`
    create index cell_evidence_unretracted on cell_evidence (program_id, milestone, consortium_id, v_start, v_position)
    include (event_id, recorded_at) where retracted_at = 'infinity'`.execute(db);
  // Every evidential event a cell's timeline holds in any version, once, as recorded and retracted.
  await sql`
    insert into cell_evidence (program_id, milestone, consortium_id, v_start, v_position, event_id, recorded_at, retracted_at)
    select distinct on (s.program_id, s.milestone, s.consortium_id, s.v_start, s.v_position)
           s.program_id, s.milestone, s.consortium_id, s.v_start, s.v_position, s.event_id, e.recorded_at,
           coalesce(rx.recorded_at, 'infinity')
    from cell_step s
    join event e on e.id = s.event_id
    left join retraction x on x.event_id = s.event_id
    left join event rx on rx.id = x.retracted_by
    where s.evidential
    order by s.program_id, s.milestone, s.consortium_id, s.v_start, s.v_position`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table cell_evidence`.execute(db);
}
