import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import type { Db } from '../../src/store/database.js';
import { isMarkedPrepared, setMarkedPlannerSettings } from '../../src/store/prepared-statement.js';
import { onEachStatement } from './statement-hook.js';

/*
 * What a request costs the database, measured rather than timed: the app's statements are recorded
 * as they are sent, and each query (a SELECT, or a WITH that writes nothing) is then run again under EXPLAIN (ANALYZE, BUFFERS) with the
 * same parameters, which counts the tuples its scans read and the buffers it touched. A statement
 * the service marks PREPARED runs under the marked planner settings, as a generic plan, made once
 * for any parameters (src/store/prepared-statement.ts; on the embedded database too, whose unnamed
 * statements follow plan_cache_mode): it is run under them both as planned for its parameters and
 * as a generic plan, and each measure counts the larger of the two.
 */

export interface StatementRecorder {
  readonly wrap: (db: Db) => Db;
  /** Statements recorded since the last call. */
  readonly take: () => CompiledQuery[];
}

export function statementRecorder(): StatementRecorder {
  let recorded: CompiledQuery[] = [];
  return {
    wrap: (db) =>
      onEachStatement(db, (query) => {
        recorded.push(query);
      }),
    take: () => {
      const taken = recorded;
      recorded = [];
      return taken;
    },
  };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}
const PlanNode: z.ZodType<PlanNode> = z.lazy(() =>
  z.looseObject({
    'Node Type': z.string(),
    'Index Name': z.string().optional(),
    'Relation Name': z.string().optional(),
    'Actual Rows': z.number().optional(),
    'Actual Loops': z.number().optional(),
    'Rows Removed by Filter': z.number().optional(),
    'Rows Removed by Index Recheck': z.number().optional(),
    'Shared Hit Blocks': z.number().optional(),
    'Shared Read Blocks': z.number().optional(),
    Plans: z.array(PlanNode).optional(),
  }),
);
const Explained = z.array(z.looseObject({ Plan: PlanNode }));
const ExplainRow = z.looseObject({ 'QUERY PLAN': z.unknown() });

/** Tuples read by the scans of a plan: those returned and those a filter dropped, in every loop. */
function tuplesRead(node: PlanNode): number {
  const own = node['Node Type'].includes('Scan')
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) *
      (node['Actual Loops'] ?? 1)
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + tuplesRead(child), 0);
}

/**
 * How many times a plan's scans ran, by the name `key` gives each (an index's, a table's), over
 * every loop (0: never executed).
 */
function scanLoops(node: PlanNode, key: 'Index Name' | 'Relation Name', into = new Map<string, number>()): Map<string, number> {
  const name = node[key];
  if (name !== undefined) into.set(name, (into.get(name) ?? 0) + (node['Actual Loops'] ?? 0));
  for (const child of node.Plans ?? []) scanLoops(child, key, into);
  return into;
}

/** For each name, the larger count of a statement's plans, added to `into`. */
function addLoops(into: Record<string, number>, scans: readonly Map<string, number>[]): void {
  for (const name of new Set(scans.flatMap((m) => [...m.keys()]))) {
    into[name] = (into[name] ?? 0) + Math.max(...scans.map((m) => m.get(name) ?? 0));
  }
}

export interface StatementCost {
  readonly statements: number;
  readonly tuples: number;
  readonly buffers: number;
  /** Scans of each index by name, every loop counted: for each index the larger count of a statement's plans, summed over statements. */
  readonly indexLoops: Readonly<Record<string, number>>;
  /** Scans of each table by any method (an index, a sequential scan), counted as indexLoops are. */
  readonly tableLoops: Readonly<Record<string, number>>;
  /** Each statement's SQL (shortened) and tuples read, for the message of a failed assertion. */
  readonly detail: readonly string[];
}

interface PlanCost {
  readonly tuples: number;
  readonly buffers: number;
  readonly plan: PlanNode;
}

async function explained(db: Db, query: CompiledQuery): Promise<PlanCost> {
  const result = await db.executeQuery(query);
  const cell = ExplainRow.parse(result.rows[0])['QUERY PLAN'];
  const [found] = Explained.parse(typeof cell === 'string' ? JSON.parse(cell) : cell);
  if (found === undefined) throw new Error(`no plan for ${query.sql}`);
  return { tuples: tuplesRead(found.Plan), buffers: (found.Plan['Shared Hit Blocks'] ?? 0) + (found.Plan['Shared Read Blocks'] ?? 0), plan: found.Plan };
}

/** A parameter as a literal: EXECUTE takes its arguments in its text, not as bound parameters. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (Array.isArray(value)) return value.length === 0 ? `'{}'` : `array[${value.map(literal).join(', ')}]`;
  return pg.escapeLiteral(JSON.stringify(value));
}

const EXPLAIN = 'explain (analyze, buffers, format json)';

/**
 * A marked statement under the marked planner settings (src/store/marked-settings-dialect.ts on the
 * embedded database), planned for its parameters, or as the generic plan that plan_cache_mode among
 * them has the service run.
 */
async function explainedMarked(db: Db, query: CompiledQuery, plan: 'custom' | 'generic'): Promise<PlanCost> {
  const parameters = query.parameters.length === 0 ? '' : `(${query.parameters.map(literal).join(', ')})`;
  // In a transaction, so that the settings end with it; the line break after the statement keeps
  // the PREPARE from ending with the mark, which would have the pool name it.
  return db.transaction().execute(async (trx) => {
    for (const statement of setMarkedPlannerSettings('local')) await trx.executeQuery(CompiledQuery.raw(statement));
    if (plan === 'custom') return explained(trx, CompiledQuery.raw(`${EXPLAIN} ${query.sql}\n`, [...query.parameters]));
    await trx.executeQuery(CompiledQuery.raw(`prepare ml_cost_generic as ${query.sql}\n`));
    try {
      return await explained(trx, CompiledQuery.raw(`${EXPLAIN} execute ml_cost_generic${parameters}`));
    } finally {
      await sql`deallocate ml_cost_generic`.execute(trx);
    }
  });
}

/** Thrown to roll back the transaction a writing statement was measured in, carrying what it cost. */
class MeasuredThenRolledBack extends Error {
  constructor(readonly cost: PlanCost) {
    super('rolled back after measuring');
  }
}

/** A statement that writes, run under EXPLAIN ANALYZE in a transaction rolled back after: what it reads, and nothing written. */
async function explainedRolledBack(db: Db, query: CompiledQuery): Promise<PlanCost> {
  try {
    await db.transaction().execute(async (trx) => {
      throw new MeasuredThenRolledBack(await explained(trx, CompiledQuery.raw(`${EXPLAIN} ${query.sql}`, [...query.parameters])));
    });
  } catch (error) {
    if (error instanceof MeasuredThenRolledBack) return error.cost;
    throw error;
  }
  throw new Error('the measuring transaction committed');
}

/**
 * Replays the recorded SELECTs under EXPLAIN ANALYZE and adds up what they read; with `writes`
 * 'rolled back', the statements that write too, each in a transaction rolled back after.
 */
export async function costOf(db: Db, statements: readonly CompiledQuery[], writes: 'skipped' | 'rolled back' = 'skipped'): Promise<StatementCost> {
  let tuples = 0;
  let buffers = 0;
  const indexLoops: Record<string, number> = {};
  const tableLoops: Record<string, number> = {};
  const detail: string[] = [];
  // Replayed under EXPLAIN ANALYZE, which runs them: a statement that writes is not replayed, unless asked to be, and then rolled back.
  const writing = (q: CompiledQuery) => /\b(insert|update|delete)\b/i.test(q.sql);
  // A setting made for the statements after it (the marked planner settings on the embedded database) reads nothing.
  const setting = (q: CompiledQuery) => /^\s*select set_config\(/i.test(q.sql);
  // The rate limiter's count of the request's key is made once per lease of up to 64 requests, so
  // it falls in whichever request finds its key's lease used up or its window ended: not the view's
  // work (test/http/rate-limit.test.ts measures it), and replaying it would count a request. A view
  // measured just as a lease ran out counted 3 statements for 2, and failed CI on 2026-12-06.
  const rateCount = (q: CompiledQuery) => /\bcount_requests\(/.test(q.sql);
  for (const query of statements.filter(rateCount)) detail.push(`not measured: ${query.sql.replace(/\s+/g, ' ').slice(0, 80)}`);
  const selects = statements.filter(
    (q) => /^\s*(select|with|update|insert|delete)\b/i.test(q.sql) && !setting(q) && !rateCount(q) && (writes === 'rolled back' || !writing(q)),
  );
  for (const query of selects) {
    // The read of what is settled in system time, before a view with knownAt (src/store/known-horizon.ts),
    // reads the server's lock table: as many rows as locks are held at that moment, by any database,
    // whatever the history. Counted as a statement; its reads are not the view's.
    if (/\bfrom pg_locks\b/.test(query.sql)) {
      detail.push(`not measured: ${query.sql.replace(/\s+/g, ' ').slice(0, 80)}`);
      continue;
    }
    const marked = isMarkedPrepared(query.sql);
    const custom = writing(query)
      ? await explainedRolledBack(db, query)
      : marked
        ? await explainedMarked(db, query, 'custom')
        : await explained(db, CompiledQuery.raw(`${EXPLAIN} ${query.sql}`, [...query.parameters]));
    const generic = marked && !writing(query) ? await explainedMarked(db, query, 'generic') : undefined;
    const plans = generic === undefined ? [custom] : [custom, generic];
    const read = Math.max(...plans.map((p) => p.tuples));
    tuples += read;
    buffers += Math.max(...plans.map((p) => p.buffers));
    addLoops(indexLoops, plans.map((p) => scanLoops(p.plan, 'Index Name')));
    addLoops(tableLoops, plans.map((p) => scanLoops(p.plan, 'Relation Name')));
    const which = generic === undefined ? '' : ` (custom ${custom.tuples}, generic ${generic.tuples})`;
    detail.push(`${read} tuples${which}: ${query.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    if (process.env.COST_PLANS === '1') for (const plan of plans) process.stderr.write(`${JSON.stringify(plan.plan, null, 1)}\n`);
  }
  return { statements: selects.length, tuples, buffers, indexLoops, tableLoops, detail };
}
