import { sql } from 'kysely';

/*
 * The mark of a statement the pool sends as a named (prepared) one (callback-query-pool.ts): a
 * comment at its end, the one thing of a statement that reaches the driver unchanged. Only the
 * views' look-ups by key carry it (a program's or a consortium's programs, milestones and cells, a
 * cell's evidence): index probes whatever the keys, whose planning was much of their cost
 * (measured on a 200k-event history, one connection: the busy matrix at asOf and knownAt, 11.1–13.8
 * ms of the server's CPU a statement unnamed, 4.1–6.3 named; a program's milestones 180 against 45
 * µs). After five executions PostgreSQL may keep a generic plan, made for any parameters; the
 * view-cost tests measure each marked statement under both kinds of plan (test/support/
 * statement-cost.ts). Other statements, whose best plan depends on their parameters (a feed read
 * near the head or far behind it, a page of a list), are planned for their parameters each time.
 */
const MARK = '/* prepared */';

/** Appended to a statement (last, after any ORDER BY or LIMIT) to have it prepared. */
export const PREPARED = sql.raw(MARK);

export const isMarkedPrepared = (text: string): boolean => text.endsWith(MARK);
