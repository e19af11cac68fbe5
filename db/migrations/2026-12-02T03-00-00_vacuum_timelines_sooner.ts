import { sql, type Kysely } from 'kysely';

/*
 * Cut-off reads walk cell_step and cell_evidence by index alone (index-only scans), which fetch a
 * row from the table whenever its page is not yet marked all-visible, and only vacuum marks it. By
 * default an insert-mostly table is vacuumed once a fifth of its size has been inserted since the
 * last time: at 1M events, the 200k newest evidence rows, the ones analysts ask about most. Measured
 * on a 60k-event history, a busy program's asOf matrix read 1,481 buffers, 1,011 of them fetches of
 * rows from the table; after a vacuum, 634. A vacuum after 1 % of inserts visits the table's pages
 * changed since the last one. cell_step also collects dead rows (a late event's re-fold updates the
 * steps it supersedes), and a vacuum that removes them scans every index of the table: after 2 % of
 * its rows, not the default 20 %, so that they do not pile up in the pages cut-off reads walk. The
 * rebuild copies these settings to the tables it builds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cell_evidence set (autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_scale_factor = 0.02)`.execute(db);
  await sql`alter table cell_step set (autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_scale_factor = 0.02)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table cell_evidence reset (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_scale_factor)`.execute(db);
  await sql`alter table cell_step reset (autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_scale_factor)`.execute(db);
}
