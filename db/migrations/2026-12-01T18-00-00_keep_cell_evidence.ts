import { sql, type Kysely } from 'kysely';

/*
 * Each cell keeps its latest evidence ids with its current state, newest first in world time, so the
 * current views read a cell in one row instead of scanning its timeline (src/store/read-model.ts);
 * fold_cell.sql keeps the list at append. At most 20: CELL_EVIDENCE_LIMIT when this was written,
 * spelt out because a migration is frozen in time (a new limit comes with a migration that refills
 * the column). The cells a database already holds are filled here from their current timelines, one
 * bounded index range a cell, so an upgrade answers at once, without a rebuild. A rebuild creates its
 * tables like the live ones (src/store/read-model-rebuild.ts until 2026-12-03, now src/store/rebuild-tables.ts), so it has the column too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // With a constant default, adding the column rewrites nothing; the fill below writes each cell once.
  await sql`alter table milestone_cell add column evidence uuid[] not null default '{}'`.execute(db);
  await sql`
    update milestone_cell c set evidence = array(
      select s.event_id from cell_step s
      where s.program_id = c.program_id and s.milestone = c.milestone and s.consortium_id = c.consortium_id
        and s.known_to = 'infinity' and s.evidential
      order by s.v_start desc, s.v_position desc
      limit 20)
    where c.evidence_count > 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table milestone_cell drop column evidence`.execute(db);
}
