import { sql, type Expression, type SqlBool } from 'kysely';
import type { Cutoff } from '../domain/cut-off.js';
import type { StandIns } from './shaped-statement.js';

/*
 * A cut-off in SQL: W, world time (asOf), and K, system time (knownAt), both exclusive bounds
 * (src/domain/cut-off.ts). A definition is in force at (W, K) when it began before W and was
 * recorded before K; a retractable change, until it is retracted; a step of a cell's timeline is
 * believed at K when it was written before K and not superseded by then.
 */

export type ReadCut = Cutoff;

const INFINITY = sql<Date>`'infinity'::timestamptz`;
export const worldCut = (cut: ReadCut) => (cut.worldBefore === undefined ? INFINITY : sql<Date>`${cut.worldBefore}::timestamptz`);
export const knownCut = (cut: ReadCut) => (cut.knownBefore === undefined ? INFINITY : sql<Date>`${cut.knownBefore}::timestamptz`);

/** A definition in force at the cut: begun before W, recorded before K. */
export const defined = (table: string, cut: ReadCut): Expression<SqlBool> =>
  sql<SqlBool>`${sql.ref(`${table}.occurred_start`)} < ${worldCut(cut)} and ${sql.ref(`${table}.recorded_at`)} < ${knownCut(cut)}`;

/** A retractable change still in force at K (retracted_at is 'infinity' until it is retracted). */
export const unretracted = (column: string, cut: ReadCut): Expression<SqlBool> =>
  cut.knownBefore === undefined
    ? sql<SqlBool>`${sql.ref(column)} = 'infinity'`
    : sql<SqlBool>`${cut.knownBefore}::timestamptz <= ${sql.ref(column)}`;

/** A step row believed just before K: written before K, and not superseded by then. */
export const believedAt = (k: Date): Expression<SqlBool> => sql<SqlBool>`s.known_from < ${k}::timestamptz and ${k}::timestamptz <= s.known_to`;

/** The cut's instants, each through its stand-in, for a statement compiled once a shape (shaped-statement.ts). */
export const cutStandIns = (cut: ReadCut, s: StandIns): ReadCut => ({
  worldBefore: s.optionalInstant(cut.worldBefore),
  knownBefore: s.optionalInstant(cut.knownBefore),
});
