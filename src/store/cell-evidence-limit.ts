/**
 * The most evidence a cell shows; the rest is paged from the cell (SPEC §4). The read model keeps
 * this many of each cell's latest evidence ids in milestone_cell.evidence, so the current views read
 * them with the cell: fold_cell.sql takes the number from cell_evidence_limit(), which applying the
 * functions writes from here (db/cell-evidence-limit.ts). Changing it needs a migration that refills
 * that column, as 2026-12-01T18-00-00_keep_cell_evidence filled it for 20.
 */
export const CELL_EVIDENCE_LIMIT = 20;
