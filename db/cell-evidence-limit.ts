import { sql, type Kysely } from 'kysely';
import { CELL_EVIDENCE_LIMIT } from '../src/store/cell-evidence-limit.js';

/**
 * Writes cell_evidence_limit(), the number of evidence ids fold_cell.sql keeps in milestone_cell and
 * in each step, from the one constant the reads use too. It is a constant, not procedure, so it is written from TypeScript
 * (as the catalogue's rules are) rather than kept as a file of db/functions; immutable, so the
 * planner folds it into fold_cell's plans and a fold pays nothing to read it. It sends the same
 * statement whatever the database holds: the functions' digest is taken from it (db/functions.ts).
 */
export async function writeCellEvidenceLimit<DB>(db: Kysely<DB>): Promise<void> {
  await sql`
    create or replace function cell_evidence_limit() returns integer language sql immutable parallel safe
    as ${sql.lit(`select ${String(CELL_EVIDENCE_LIMIT)}`)}`.execute(db);
}
