import { sql } from 'kysely';

/*
 * The mark of a statement the pool sends as a named (prepared) one (callback-query-pool.ts): a
 * comment at its end, the one thing of a statement that reaches the driver unchanged. Only the
 * views' look-ups by key carry it (a program's or a consortium's programs, milestones and cells, a
 * cell's evidence), the pages of the program and consortium lists (one walk of an index in
 * code-point order, whatever the page), of the filtered event and notification feeds (one walk
 * of the filter's index) and of a timeline of one subject or of the whole log (one walk of a
 * world-order index), outside a transaction:
 * index probes whatever the keys, whose planning was much of their cost
 * (measured on a 200k-event history, one connection: the busy matrix at asOf and knownAt, 11.1–13.8
 * ms of the server's CPU a statement unnamed, 4.1–6.3 named; a program's milestones 180 against 45
 * µs). They run a generic plan, made once a connection for any parameters, and again when
 * PostgreSQL invalidates it (a table replaced, new statistics) (plan_cache_mode in
 * MARKED_PLANNER_SETTINGS). Left to choose after five executions, PostgreSQL kept planning most of
 * them for their parameters at every execution, the generic plan priced higher: on a 50k history
 * after 100 executions a connection, binding the asOf matrix (its planning) took 0.5–0.8 ms beside
 * 0.6–0.9 of execution, a program's page 0.3–0.4 beside 0.1. The view-cost tests measure the
 * forms they run under both kinds of plan (test/support/statement-cost.ts), so a generic plan is
 * held to the same reads there. Other statements, whose best plan depends on their parameters (the
 * whole feed read near the head or far behind it, a timeline of a program and a consortium both),
 * are planned for them each time.
 */
const MARK = '/* prepared */';

/*
 * The planner settings a marked statement runs under. Each of them finds a cell's state and
 * evidence by walking an index of the cell's key in the order it asks for, a few entries a cell,
 * where a plan that sorts reads and sorts a cell's whole range. PostgreSQL takes a cell's three
 * key columns for independent and expects about one row a cell where a busy one holds thousands,
 * so on some tables it chose a narrower index and a sort: on a 1M history just rebuilt and
 * analyzed, the busy asOf matrix took 17-18 ms, 3.0-3.8 without sorts (README, "Planner estimates
 * of a cell"). Without sorts the plan no longer rests on that estimate. Sorts stay where no index
 * gives the order, at the same price in every plan: a program's milestones and enrolments, a
 * page of a cell's evidence, and the pick among a cell's few candidate steps in stateAt
 * (cell-states.ts); the cells themselves are sorted in the service. PostgreSQL 15 prices a
 * disabled sort at 10^10, so two more settings go with it: no JIT compilation, which that price
 * would trigger on every statement (200 ms a statement, measured), and no parallel plan, whose
 * workers share the price and so seem to shrink it (a parallel scan of every cell, measured). The
 * pool sets them before a marked statement run outside a transaction and resets them before the
 * next unmarked one (callback-query-pool.ts); the cost tests plan under them
 * (test/support/statement-cost.ts).
 * The last of them, a generic plan, is the mark's own reason (above).
 */
export const MARKED_PLANNER_SETTINGS = [
  { name: 'enable_sort', value: 'off' },
  { name: 'enable_incremental_sort', value: 'off' },
  { name: 'jit', value: 'off' },
  { name: 'max_parallel_workers_per_gather', value: '0' },
  { name: 'plan_cache_mode', value: 'force_generic_plan' },
] as const;

/** The statements that put MARKED_PLANNER_SETTINGS in force for the session, or for the transaction (`local`). */
export const setMarkedPlannerSettings = (scope: 'session' | 'local'): string[] =>
  MARKED_PLANNER_SETTINGS.map((s) => `set ${scope === 'local' ? 'local ' : ''}${s.name} = ${s.value}`);

/** The statements that put the server's own settings back in force for the session. */
export const resetMarkedPlannerSettings = (): string[] => MARKED_PLANNER_SETTINGS.map((s) => `reset ${s.name}`);

/** Appended to a statement (last, after any ORDER BY or LIMIT) to have it prepared. */
export const PREPARED = sql.raw(MARK);

export const isMarkedPrepared = (text: string): boolean => text.endsWith(MARK);
