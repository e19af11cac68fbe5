import { CompiledQuery, type KyselyPlugin } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../src/store/database.js';

/*
 * What a request costs the database, measured rather than timed: the app's statements are recorded
 * as they are compiled, and each SELECT is then run again under EXPLAIN (ANALYZE, BUFFERS) with the
 * same parameters, which counts the tuples its scans read and the buffers it touched.
 */

export interface StatementRecorder {
  readonly wrap: (db: Db) => Db;
  /** Statements recorded since the last call. */
  readonly take: () => CompiledQuery[];
}

export function statementRecorder(): StatementRecorder {
  let recorded: CompiledQuery[] = [];
  return {
    wrap: (db) => {
      const executor = db.getExecutor();
      const plugin: KyselyPlugin = {
        transformQuery: ({ node, queryId }) => {
          recorded.push(executor.compileQuery(node, queryId));
          return node;
        },
        transformResult: async ({ result }) => result,
      };
      return db.withPlugin(plugin);
    },
    take: () => {
      const taken = recorded;
      recorded = [];
      return taken;
    },
  };
}

interface PlanNode {
  'Node Type': string;
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

export interface StatementCost {
  readonly statements: number;
  readonly tuples: number;
  readonly buffers: number;
  /** Each statement's SQL (shortened) and tuples read, for the message of a failed assertion. */
  readonly detail: readonly string[];
}

/** Replays the recorded SELECTs under EXPLAIN ANALYZE and adds up what they read. */
export async function costOf(db: Db, statements: readonly CompiledQuery[]): Promise<StatementCost> {
  let tuples = 0;
  let buffers = 0;
  const detail: string[] = [];
  const selects = statements.filter((q) => /^\s*select\b/i.test(q.sql));
  for (const query of selects) {
    const result = await db.executeQuery(CompiledQuery.raw(`explain (analyze, buffers, format json) ${query.sql}`, [...query.parameters]));
    const cell = ExplainRow.parse(result.rows[0])['QUERY PLAN'];
    const [explained] = Explained.parse(typeof cell === 'string' ? JSON.parse(cell) : cell);
    if (explained === undefined) throw new Error(`no plan for ${query.sql}`);
    tuples += tuplesRead(explained.Plan);
    detail.push(`${tuplesRead(explained.Plan)} tuples: ${query.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    if (process.env.COST_PLANS === '1') process.stderr.write(`${JSON.stringify(explained.Plan, null, 1)}\n`);
    buffers += (explained.Plan['Shared Hit Blocks'] ?? 0) + (explained.Plan['Shared Read Blocks'] ?? 0);
  }
  return { statements: selects.length, tuples, buffers, detail };
}
