import { sql, type Kysely } from 'kysely';

/*
 * Each step of a cell's timeline keeps the cell's latest evidence once its event is folded in, as
 * milestone_cell keeps it for the current state: at most cell_evidence_limit() ids, newest first
 * in world time. A version of a step is believed for as long as nothing before it changed (a late
 * event or a retraction before it supersedes it and writes it again, fold_cell.sql), so its
 * evidence is the evidence at every (W, K) whose state it is. A cut-off read then takes a cell's
 * state and evidence from the one step it finds, where it scanned cell_evidence once more per
 * cell: on the busy matrix of a 1M history, about 1.6 of an asOf read's 2.6–3 ms in PostgreSQL.
 * cell_evidence stays, for a cell's evidence pages.
 *
 * The rows written so far have no evidence: the read model is rebuilt from the log after the
 * migrations (db/migrator.ts), which fills it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cell_step add column evidence uuid[] not null default '{}'`.execute(db);
  // Every fold names it: a fold that left it out would fail, not write an empty list.
  await sql`alter table cell_step alter column evidence drop default`.execute(db);
  await sql`update read_model_status set rebuild_pending = true`.execute(db);
  // fold_cell.sql takes the evidence before a late event from the step it folds on.
  await sql`drop function if exists latest_evidence(text, text, text, timestamptz, bigint)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cell_step drop column evidence`.execute(db);
}
