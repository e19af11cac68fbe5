/**
 * The most evidence a cell shows; the rest is paged from the cell (SPEC §4). The read model keeps
 * this many of each cell's latest evidence ids in milestone_cell.evidence and in every version of
 * every step (cell_step.evidence), so the views read them with the cell's state: fold_cell.sql
 * takes the number from cell_evidence_limit(), which applying the functions writes from here
 * (db/cell-evidence-limit.ts). Changing it needs a migration that asks for a rebuild
 * (read_model_status.rebuild_pending), as 2026-12-04T08-00-00_keep_evidence_on_steps does: only
 * the log can say what each version held.
 */
export const CELL_EVIDENCE_LIMIT = 20;
